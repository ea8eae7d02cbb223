package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn initrd create} in-process: outputs, reproducibility, exit codes. */
class InitrdCommandTest {
    @TempDir
    Path dir;

    Path tree(String name, long millis) throws IOException {
        Path t = dir.resolve(name);
        Files.createDirectories(t.resolve("bin"));
        Files.writeString(t.resolve("init"), "#!/bin/sh\necho hi\n");
        Files.writeString(t.resolve("bin/tool"), "tool");
        Files.createSymbolicLink(t.resolve("bin/sh"), Path.of("tool"));
        Files.setPosixFilePermissions(t.resolve("init"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(t.resolve("bin/tool"), PosixFilePermissions.fromString("rw-r--r--"));
        try (Stream<Path> s = Files.walk(t)) {
            for (Path p : s.filter(p -> !Files.isSymbolicLink(p)).toList()) {
                if (Files.isDirectory(p)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
                Files.setLastModifiedTime(p, FileTime.fromMillis(millis));
            }
        }
        return t;
    }

    static MainTest.Run runWith(Map<String, String> env, String... args) {
        Map<String, String> old = Environment.swap(env);
        try {
            return MainTest.run(args);
        } finally {
            Environment.swap(old);
        }
    }

    @Test
    void createIsReproducibleAndHonoursSourceDateEpoch() throws IOException {
        Path a = tree("a", 1_000_000L);
        Path b = tree("b", 999_999_000L);
        Path outA = dir.resolve("out/a.img");
        Path outB = dir.resolve("out/b.img");
        MainTest.Run ra = runWith(Map.of("SOURCE_DATE_EPOCH", "1700000000"), "initrd", "create", a.toString(), outA.toString(), "--json");
        assertThat(ra.code()).as(ra.err()).isZero();
        assertThat(ra.out()).contains("\"compression\" : \"zstd\"").contains("\"mtime\" : 1700000000").contains("\"entries\" : 4");
        MainTest.Run rb = runWith(Map.of(), "initrd", "create", b.toString(), outB.toString(), "--source-date-epoch", "1700000000");
        assertThat(rb.code()).as(rb.err()).isZero();
        assertThat(rb.out()).startsWith("Created " + outB + ": 4 entries");
        assertThat(Files.readAllBytes(outB)).isEqualTo(Files.readAllBytes(outA));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outA))).isEqualTo("rw-r--r--");
        try (Stream<Path> s = Files.list(outA.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).as("no temporary files left")
                    .containsExactly("a.img", "b.img");
        }
        MainTest.Run zero = runWith(Map.of(), "initrd", "create", a.toString(), dir.resolve("z.img").toString(), "--compress", "none");
        assertThat(zero.code()).as(zero.err()).isZero();
        String cpio = Files.readString(dir.resolve("z.img"), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(cpio).startsWith("070701").contains("bin/sh\0").doesNotContain("6553f100"); // mtime 0, not 1700000000
    }

    @Test
    void everyCompressionWorksAndBadInputIsACleanError() throws IOException {
        Path t = tree("t", 0);
        for (String c : List.of("zstd", "gzip", "xz", "none", "GZIP")) {
            MainTest.Run r = runWith(Map.of(), "initrd", "create", t.toString(), dir.resolve("i." + c).toString(), "--compress", c);
            assertThat(r.code()).as(c + ": " + r.err()).isZero();
        }
        Path out = dir.resolve("never.img");
        MainTest.Run lz4 = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--compress", "lz4");
        assertThat(lz4.code()).isEqualTo(3);
        assertThat(lz4.err()).contains("zstd, gzip, xz or none");
        MainTest.Run level = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--compress", "gzip", "--level", "12");
        assertThat(level.code()).isEqualTo(3);
        MainTest.Run missing = runWith(Map.of(), "initrd", "create", dir.resolve("nope").toString(), out.toString());
        assertThat(missing.code()).isEqualTo(3);
        assertThat(missing.err()).contains("nope");
        MainTest.Run usage = runWith(Map.of(), "initrd", "create", t.toString());
        assertThat(usage.code()).isEqualTo(2);
        assertThat(runWith(Map.of(), "initrd").code()).isEqualTo(2);
        assertThat(out).doesNotExist();
    }

    /** A 64-byte static ELF64 x86-64 header without program headers: a program that loads nothing. */
    static byte[] staticElf() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1).putShort(16, (short) 2).putShort(18, (short) 62);
        return b.array();
    }

    @Test
    void binariesAndModulesAreAddedAndMisuseIsExitThree() throws IOException {
        Path t = tree("t", 0);
        Path prog = Files.write(Files.createDirectories(dir.resolve("opt/tool")).resolve("prog"), staticElf());
        Path mods = Files.createDirectories(dir.resolve("modules/kernel/fs"));
        try (java.io.OutputStream o = new java.util.zip.GZIPOutputStream(Files.newOutputStream(mods.resolve("fancy-fs.ko.gz")))) {
            o.write(staticElf());
        }
        Files.write(mods.resolve("helper.ko"), staticElf());
        Files.writeString(dir.resolve("modules/modules.dep"), "kernel/fs/fancy-fs.ko.gz: kernel/fs/helper.ko\nkernel/fs/helper.ko:\n");
        Path out = dir.resolve("extra.cpio");
        MainTest.Run r = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--compress", "none", "--binary", prog.toString(),
                "--kernel-modules", dir.resolve("modules").toString(), "--module", "fancy_fs", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"modules\" : [ \"/lib/modules/helper.ko\", \"/lib/modules/fancy-fs.ko\" ]");
        java.util.Map<String, byte[]> entries = new java.util.TreeMap<>();
        try (org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream in =
                new org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream(Files.newInputStream(out))) {
            org.apache.commons.compress.archivers.cpio.CpioArchiveEntry e;
            while ((e = in.getNextCPIOEntry()) != null) {
                entries.put(e.getName(), in.readAllBytes());
            }
        }
        String progPath = prog.toString().substring(1);
        assertThat(entries).containsKeys("init", "bin/sh", progPath, "lib/modules/helper.ko", "lib/modules/fancy-fs.ko");
        assertThat(entries.get(progPath)).isEqualTo(staticElf());
        assertThat(entries.get("lib/modules/fancy-fs.ko")).as("decompressed").isEqualTo(staticElf());
        assertThat(new String(entries.get("lib/modules/load-order"), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("/lib/modules/helper.ko\n/lib/modules/fancy-fs.ko\n");

        MainTest.Run noDir = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--module", "fancy_fs");
        assertThat(noDir.code()).isEqualTo(3);
        assertThat(noDir.err()).contains("--module needs --kernel-modules");
        MainTest.Run relative = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--binary", "opt/tool/prog");
        assertThat(relative.code()).isEqualTo(3);
        assertThat(relative.err()).contains("absolute path");
        MainTest.Run unknown = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--kernel-modules",
                dir.resolve("modules").toString(), "--module", "nosuch");
        assertThat(unknown.code()).isEqualTo(3);
        assertThat(unknown.err()).contains("nosuch");
        Files.writeString(dir.resolve("script"), "#!/bin/sh\n");
        MainTest.Run script = runWith(Map.of(), "initrd", "create", t.toString(), out.toString(), "--binary", dir.resolve("script").toString());
        assertThat(script.code()).isEqualTo(3);
        assertThat(script.err()).contains("not an ELF file");
    }
}
