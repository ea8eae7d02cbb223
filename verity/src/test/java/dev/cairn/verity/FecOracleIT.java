package dev.cairn.verity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.Golden;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * FEC against veritysetup: our parity file is byte-identical to {@code veritysetup format
 * --fec-device}; veritysetup repairs damage using our parity; our repair restores the original.
 */
class FecOracleIT {
    static final String SALT = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    static final String UUID_TEXT = "12345678-1234-1234-1234-123456789abc";
    static ToolOracle veritysetup;

    @TempDir
    Path dir;

    @BeforeAll
    static void tool() {
        veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
    }

    @ParameterizedTest(name = "{0} blocks of {1}, roots {2}")
    @CsvSource({"1,4096,2", "10,4096,2", "253,4096,2", "254,4096,24", "600,4096,24", "3000,4096,2",
            "3000,4096,24", "700,512,7", "20000,4096,2"})
    void identicalToVeritysetupAndRepairable(int blocks, int bs, int roots) throws Exception {
        Path data = dir.resolve("data");
        SeededData.writeFile(data, blocks * 31L + roots, (long) blocks * bs);
        String[] geometry = {"--data-block-size=" + bs, "--hash-block-size=" + bs, "--salt=" + SALT,
                "--uuid=" + UUID_TEXT, "--fec-roots=" + roots};
        Path vsHash = dir.resolve("vs-hash");
        Path vsFec = dir.resolve("vs-fec");
        String out = veritysetup.run(Duration.ofMinutes(5), concat(new String[] {"format", data.toString(),
                vsHash.toString(), "--fec-device=" + vsFec}, geometry)).assertExit(0).stdout();
        String root = out.lines().filter(l -> l.startsWith("Root hash:")).findFirst().orElseThrow().split("\t")[1];

        Path ourHash = dir.resolve("our-hash");
        Path ourFec = dir.resolve("our-fec");
        VerityParams p = new VerityParams(HashAlgorithm.SHA256, 1, bs, bs, HexFormat.of().parseHex(SALT),
                UUID.fromString(UUID_TEXT), true, 0, -1, new FecParams(ourFec, 0, roots));
        VerityResult r = VerityFormatter.format(data, ourHash, p, 2, VerityProgress.NONE);
        assertThat(r.rootHashHex()).isEqualTo(root);
        Golden.assertFilesEqual(vsHash, ourHash);
        Golden.assertFilesEqual(vsFec, ourFec);
        assertThat(out).contains("FEC blocks:     \t" + r.fec().rsBlocks());

        // Damage one byte in each of (roots / 2) different places of the same codeword column: still correctable.
        Path damaged = dir.resolve("damaged");
        Files.copy(data, damaged);
        Random rnd = new Random(blocks);
        long pos = (long) (rnd.nextDouble() * blocks * bs);
        VerityOracleIT.flip(damaged, pos);
        ToolOracle.Result vs = veritysetup.run(Duration.ofMinutes(5), concat(new String[] {"verify", damaged.toString(),
                ourHash.toString(), root, "--fec-device=" + ourFec}, geometry));
        assertThat(vs.stdout() + vs.stderr()).contains("Found 1 repairable errors with FEC device.");

        VerifyResult v = VerityVerifier.verify(damaged, ourHash, p, r.rootHash(), 2, VerityProgress.NONE);
        assertThat(v).isInstanceOf(VerifyResult.Corrupted.class);
        VerifyResult.Corrupted c = (VerifyResult.Corrupted) v;
        assertThat(c.fecRepairableErrors()).isEqualTo(1);
        assertThat(c.fecCanRepair()).isTrue();
        assertThat(c.block()).isEqualTo(pos / bs);

        Path fixed = dir.resolve("fixed");
        RepairResult rep = VerityVerifier.repair(damaged, ourHash, p, r.rootHash(), fixed, null, 2);
        assertThat(rep.bytesCorrected()).isEqualTo(1);
        assertThat(rep.after()).isInstanceOf(VerifyResult.Intact.class);
        Golden.assertFilesEqual(data, fixed);
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
