package dev.cairn.verity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.Golden;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * cairn against veritysetup (cryptsetup 2.6): for every case, the same root hash and identical
 * hash-area bytes; veritysetup verify accepts ours, ours accepts veritysetup's; and one flipped
 * byte in the data or in the tree makes both reject.
 */
class VerityOracleIT {
    static final String UUID_TEXT = "12345678-1234-1234-1234-123456789abc";
    static ToolOracle veritysetup;

    @TempDir
    static Path dir;

    @BeforeAll
    static void tool() {
        veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
    }

    record Case(int blocks, HashAlgorithm hash, int format, int dbs, int hbs, byte[] salt, boolean superblock,
                boolean appended, long seed) {
        @Override
        public String toString() {
            return blocks + " blocks " + hash.veritysetupName() + " format " + format + " " + dbs + "/" + hbs + " salt "
                    + salt.length + (superblock ? "" : " no-superblock") + (appended ? " appended" : "");
        }
    }

    static Stream<Case> cases() {
        Random r = new Random(20261125);
        int[] blockCounts = {1, 2, 128, 129, 1000, 4097, 77, 333};
        byte[][] salts = {new byte[0], HexFormat.of().parseHex("a1b2c3"), SeededData.bytes(5, 32)};
        int[][] sizes = {{4096, 4096}, {512, 512}, {1024, 1024}, {4096, 1024}, {1024, 512}, {512, 4096}};
        List<Case> list = new ArrayList<>();
        int i = 0;
        for (HashAlgorithm h : HashAlgorithm.values()) {
            for (int format = 0; format <= 1; format++) {
                for (int[] bs : sizes) {
                    int blocks = blockCounts[i % blockCounts.length];
                    list.add(new Case(blocks, h, format, bs[0], bs[1], salts[i % salts.length], i % 4 != 3, i % 5 == 2,
                            r.nextLong()));
                    i++;
                }
            }
        }
        // The large cases: three leaf levels at 512 bytes, two at 4096.
        list.add(new Case(16385, HashAlgorithm.SHA256, 1, 4096, 4096, salts[2], true, false, 1));
        list.add(new Case(16385, HashAlgorithm.SHA256, 1, 512, 512, salts[1], true, true, 2));
        list.add(new Case(16385, HashAlgorithm.SHA1, 0, 1024, 1024, salts[0], false, false, 3));
        list.add(new Case(16385, HashAlgorithm.SHA512, 1, 4096, 4096, salts[2], false, true, 4));
        for (int k = 0; k < 3; k++) {
            list.add(new Case(1 + r.nextInt(40000), HashAlgorithm.SHA256, 1, 4096, 4096, SeededData.bytes(k, 1 + r.nextInt(32)),
                    true, k == 1, r.nextLong()));
        }
        return list.stream();
    }

    static List<String> geometryArgs(Case c, long dataBlocks, long hashOffset) {
        List<String> a = new ArrayList<>(List.of("--hash=" + c.hash.veritysetupName(), "--format=" + c.format,
                "--data-block-size=" + c.dbs, "--hash-block-size=" + c.hbs,
                "--salt=" + (c.salt.length == 0 ? "-" : HexFormat.of().formatHex(c.salt))));
        if (c.superblock) {
            a.add("--uuid=" + UUID_TEXT);
        } else {
            a.add("--no-superblock");
        }
        if (c.appended) {
            a.add("--hash-offset=" + hashOffset);
            a.add("--data-blocks=" + dataBlocks);
        }
        return a;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesVeritysetup(Case c) throws Exception {
        Path work = Files.createTempDirectory(dir, "case");
        long dataBytes = (long) c.blocks * c.dbs;
        Path data = work.resolve("data");
        SeededData.writeFile(data, c.seed, dataBytes);
        long hashOffset = c.appended ? ((dataBytes + c.hbs - 1) / c.hbs) * c.hbs : 0;

        // veritysetup's output
        Path vsData = work.resolve("vs-data");
        Files.copy(data, vsData);
        Path vsHash = c.appended ? vsData : work.resolve("vs-hash");
        List<String> args = new ArrayList<>(List.of("format", vsData.toString(), vsHash.toString()));
        args.addAll(geometryArgs(c, c.blocks, hashOffset));
        String out = veritysetup.run(Duration.ofMinutes(2), args.toArray(String[]::new)).assertExit(0).stdout();
        String vsRoot = out.lines().filter(l -> l.startsWith("Root hash:")).findFirst().orElseThrow().split("\t")[1].trim();

        // cairn's output
        Path ourData = work.resolve("our-data");
        Files.copy(data, ourData);
        Path ourHash = c.appended ? ourData : work.resolve("our-hash");
        VerityParams p = new VerityParams(c.hash, c.format, c.dbs, c.hbs, c.salt, UUID.fromString(UUID_TEXT), c.superblock,
                hashOffset, c.appended ? c.blocks : -1, null);
        VerityResult r = VerityFormatter.format(ourData, ourHash, p, 2, VerityProgress.NONE);

        assertThat(r.rootHashHex()).isEqualTo(vsRoot);
        Golden.assertFilesEqual(vsHash, ourHash);
        if (!c.appended) {
            Golden.assertFilesEqual(vsData, ourData);
        }

        // cross-verification
        veritysetupVerify(c, ourData, ourHash, vsRoot, hashOffset).assertExit(0);
        assertThat(VerityVerifier.verify(vsData, vsHash, p, r.rootHash(), 2, VerityProgress.NONE))
                .isInstanceOf(VerifyResult.Intact.class);

        // one flipped byte in the data, then in the tree: both tools reject
        Random rnd = new Random(c.seed);
        long dataPos = (long) (rnd.nextDouble() * dataBytes);
        flip(ourData, dataPos);
        assertThat(veritysetupVerify(c, ourData, ourHash, vsRoot, hashOffset).exitCode()).isNotZero();
        VerifyResult bad = VerityVerifier.verify(ourData, ourHash, p, r.rootHash(), 2, VerityProgress.NONE);
        assertThat(bad).isInstanceOf(VerifyResult.Corrupted.class);
        assertThat(((VerifyResult.Corrupted) bad).kind()).isEqualTo("data");
        assertThat(((VerifyResult.Corrupted) bad).block()).isEqualTo(dataPos / c.dbs);
        flip(ourData, dataPos);

        if (r.hashBlocks() > 0) {
            long treeStart = r.hashStartBlock() * c.hbs;
            long hashPos = treeStart + (long) (rnd.nextDouble() * (r.hashDeviceSize() - treeStart));
            flip(ourHash, hashPos);
            assertThat(veritysetupVerify(c, ourData, ourHash, vsRoot, hashOffset).exitCode()).isNotZero();
            VerifyResult badHash = VerityVerifier.verify(ourData, ourHash, p, r.rootHash(), 2, VerityProgress.NONE);
            assertThat(badHash).isInstanceOf(VerifyResult.Corrupted.class);
            assertThat(((VerifyResult.Corrupted) badHash).kind()).isEqualTo("hash");
            assertThat(((VerifyResult.Corrupted) badHash).fileOffset()).isEqualTo(hashPos / c.hbs * c.hbs);
        }
    }

    static ToolOracle.Result veritysetupVerify(Case c, Path data, Path hash, String root, long hashOffset) {
        List<String> args = new ArrayList<>(List.of("verify", data.toString(), hash.toString(), root));
        args.addAll(geometryArgs(c, c.blocks, hashOffset));
        if (c.superblock) {
            args.removeIf(a -> a.startsWith("--uuid"));
        }
        return veritysetup.run(Duration.ofMinutes(2), args.toArray(String[]::new));
    }

    static void flip(Path file, long pos) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x5a);
        }
    }
}
