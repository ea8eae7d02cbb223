package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerityCommandTest {
    static final String Z32 = "0".repeat(64);
    static final String UUID_TEXT = "12345678-1234-1234-1234-123456789abc";
    static final String D10_ROOT = "e88d6d926f3a9320a88a89bb32a0b227975dd24a9cb22145b5572b26e8da039d";

    @TempDir
    Path dir;

    Path d10() throws Exception {
        Path data = dir.resolve("d10.img");
        Files.write(data, SeededData.blockPattern(10, 4096));
        return data;
    }

    @Test
    void formatPrintsExactlyWhatVeritysetupPrints() throws Exception {
        Path hash = dir.resolve("d10.hash");
        MainTest.Run r = run("verity", "format", d10().toString(), hash.toString(), "--salt", Z32, "--uuid", UUID_TEXT,
                "--root-hash-file", dir.resolve("root").toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo(String.join(System.lineSeparator(),
                "VERITY header information for " + hash,
                "UUID:            \t" + UUID_TEXT,
                "Hash type:       \t1",
                "Data blocks:     \t10",
                "Data block size: \t4096",
                "Hash blocks:     \t1",
                "Hash block size: \t4096",
                "Hash algorithm:  \tsha256",
                "Salt:            \t" + Z32,
                "Root hash:      \t" + D10_ROOT,
                "Hash device size: \t8192 [bytes]", ""));
        assertThat(Files.readString(dir.resolve("root"))).isEqualTo(D10_ROOT); // no newline, like veritysetup
    }

    @Test
    void verifyExitsZeroWhenIntactAndOneNamingTheBlock() throws Exception {
        Path data = d10();
        Path hash = dir.resolve("h");
        assertThat(run("verity", "format", data.toString(), hash.toString(), "--salt", Z32, "--uuid", UUID_TEXT).code()).isZero();
        assertThat(run("verity", "verify", data.toString(), hash.toString(), D10_ROOT).code()).isZero();
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
            f.seek(3 * 4096 + 17);
            f.write(0xff);
        }
        MainTest.Run bad = run("verity", "verify", data.toString(), hash.toString(), D10_ROOT);
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).isEqualTo("cairn: verification failed: data block 3 (offset 12288) does not match the hash tree"
                + System.lineSeparator());
        MainTest.Run wrongRoot = run("verity", "verify", data.toString(), hash.toString(), "ab".repeat(32));
        assertThat(wrongRoot.code()).isEqualTo(1);
        assertThat(wrongRoot.err()).contains("root hash");
    }

    @Test
    void seedMakesFormatReproducibleAndRandomDefaultsDoNot() throws Exception {
        Path data = d10();
        MainTest.Run a = run("verity", "format", data.toString(), dir.resolve("a").toString(), "--seed", "release 1.0");
        MainTest.Run b = run("verity", "format", data.toString(), dir.resolve("b").toString(), "--seed", "release 1.0");
        assertThat(Files.readAllBytes(dir.resolve("a"))).isEqualTo(Files.readAllBytes(dir.resolve("b")));
        assertThat(a.out().replace("/a", "/b")).isEqualTo(b.out());
        assertThat(run("verity", "format", data.toString(), dir.resolve("c").toString(), "--seed", "release 1.1").out())
                .isNotEqualTo(a.out().replace("/a", "/c"));
        run("verity", "format", data.toString(), dir.resolve("r1").toString());
        run("verity", "format", data.toString(), dir.resolve("r2").toString());
        assertThat(Files.readAllBytes(dir.resolve("r1"))).isNotEqualTo(Files.readAllBytes(dir.resolve("r2")));
    }

    @Test
    void badInputExitsThreeAndLeavesNoOutput() throws Exception {
        Path odd = dir.resolve("odd.img");
        Files.write(odd, new byte[10000]);
        MainTest.Run r = run("verity", "format", odd.toString(), dir.resolve("out.hash").toString(),
                "--root-hash-file", dir.resolve("root").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("not a multiple of the data block size").doesNotContain("\tat ");
        assertThat(r.err().lines().count()).isEqualTo(1);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("odd.img");
        }
        assertThat(run("verity", "format", odd.toString(), "x", "--data-block-size", "3000").code()).isEqualTo(3);
        assertThat(run("verity", "format", odd.toString(), "x", "--salt", "xyz").code()).isEqualTo(3);
        assertThat(run("verity", "format", odd.toString(), "x", "--hash", "md5").code()).isEqualTo(3);
        Path notSb = dir.resolve("zeros");
        Files.write(notSb, new byte[4096]);
        MainTest.Run dump = run("verity", "dump", notSb.toString());
        assertThat(dump.code()).isEqualTo(3);
        assertThat(dump.err()).contains("bad magic");
    }

    @Test
    void explicitOptionsMustAgreeWithTheSuperblock() throws Exception {
        Path data = d10();
        Path hash = dir.resolve("h");
        run("verity", "format", data.toString(), hash.toString(), "--salt", Z32, "--uuid", UUID_TEXT);
        MainTest.Run r = run("verity", "verify", data.toString(), hash.toString(), D10_ROOT, "--hash", "sha1");
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("--hash").contains("superblock says");
    }

    @Test
    void jsonOutputs() throws Exception {
        Path data = d10();
        Path hash = dir.resolve("h");
        MainTest.Run f = run("verity", "format", data.toString(), hash.toString(), "--salt", Z32, "--uuid", UUID_TEXT, "--json");
        assertThat(f.out()).contains("\"rootHash\" : \"" + D10_ROOT + "\"").contains("\"dataBlocks\" : 10");
        MainTest.Run d = run("verity", "dump", hash.toString(), "--json");
        assertThat(d.out()).contains("\"uuid\" : \"" + UUID_TEXT + "\"").contains("\"hashAlgorithm\" : \"sha256\"");
        MainTest.Run t = run("verity", "table", data.toString(), hash.toString(), D10_ROOT, "--json",
                "--data-device", "/dev/sda2", "--hash-device", "/dev/sda3");
        assertThat(t.out()).contains("0 80 verity 1 /dev/sda2 /dev/sda3 4096 4096 10 1 sha256 " + D10_ROOT + " " + Z32)
                .contains("roothash=" + D10_ROOT + " systemd.verity_root_data=/dev/sda2 systemd.verity_root_hash=/dev/sda3");
        MainTest.Run v = run("verity", "verify", data.toString(), hash.toString(), D10_ROOT, "--json");
        assertThat(v.code()).isZero();
        assertThat(v.out()).contains("\"intact\" : true");
    }

    @Test
    void fecRepairThroughTheCommandLine() throws Exception {
        Path data = dir.resolve("data");
        SeededData.writeFile(data, 9, 300 * 4096L);
        Path hash = dir.resolve("h");
        Path fec = dir.resolve("f");
        Path root = dir.resolve("root");
        assertThat(run("verity", "format", data.toString(), hash.toString(), "--seed", "x", "--fec-device", fec.toString(),
                "--root-hash-file", root.toString()).out()).contains("FEC RS roots:   \t2");
        Path damaged = dir.resolve("damaged");
        Files.copy(data, damaged);
        try (RandomAccessFile f = new RandomAccessFile(damaged.toFile(), "rw")) {
            f.seek(123456);
            f.write(0x42 ^ f.readByte());
        }
        MainTest.Run v = run("verity", "verify", damaged.toString(), hash.toString(), "--root-hash-file", root.toString(),
                "--fec-device", fec.toString());
        assertThat(v.code()).isEqualTo(1);
        assertThat(v.out()).contains("Found 1 repairable errors with FEC device.");
        assertThat(v.err()).contains("FEC can repair it");
        Path fixed = dir.resolve("fixed");
        MainTest.Run rep = run("verity", "repair", damaged.toString(), hash.toString(), "--root-hash-file", root.toString(),
                "--fec-device", fec.toString(), "--output-data", fixed.toString());
        assertThat(rep.code()).isZero();
        assertThat(Files.readAllBytes(fixed)).isEqualTo(Files.readAllBytes(data));
    }

    @Test
    void repairThatDoesNotVerifyWritesNothing() throws Exception {
        Path data = dir.resolve("data");
        SeededData.writeFile(data, 9, 300 * 4096L);
        Path hash = dir.resolve("h");
        Path fec = dir.resolve("f");
        assertThat(run("verity", "format", data.toString(), hash.toString(), "--seed", "x", "--fec-device", fec.toString())
                .code()).isZero();
        Path fixed = dir.resolve("fixed");
        Files.writeString(fixed, "an older file the failed repair must not replace");
        Path fixedHash = dir.resolve("fixed-hash");
        MainTest.Run rep = run("verity", "repair", data.toString(), hash.toString(), "1".repeat(64),
                "--fec-device", fec.toString(), "--output-data", fixed.toString(), "--output-hash", fixedHash.toString());
        assertThat(rep.code()).isEqualTo(1);
        assertThat(rep.err()).contains("repair was not enough").contains("nothing was written");
        assertThat(fixed).hasContent("an older file the failed repair must not replace");
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("data", "h", "f", "fixed");
        }
    }

    @Test
    void formatWhoseRootHashFileCannotBeWrittenLeavesTheHashFileAlone() throws Exception {
        Path data = d10();
        Path hash = dir.resolve("d10.hash");
        Files.writeString(hash, "the previous hash file");
        Path notADir = dir.resolve("not-a-dir");
        Files.writeString(notADir, "a file");
        MainTest.Run r = run("verity", "format", data.toString(), hash.toString(), "--salt", Z32, "--uuid", UUID_TEXT,
                "--root-hash-file", notADir.resolve("root").toString());
        assertThat(r.code()).isEqualTo(6);
        assertThat(hash).hasContent("the previous hash file");
        Path rootDir = dir.resolve("root-is-a-dir");
        Files.createDirectory(rootDir);
        MainTest.Run d = run("verity", "format", data.toString(), hash.toString(), "--salt", Z32, "--uuid", UUID_TEXT,
                "--root-hash-file", rootDir.toString());
        assertThat(d.code()).isEqualTo(6);
        assertThat(hash).hasContent("the previous hash file");
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("d10.img", "d10.hash", "not-a-dir", "root-is-a-dir");
        }
        assertThat(rootDir).isEmptyDirectory();
    }
}
