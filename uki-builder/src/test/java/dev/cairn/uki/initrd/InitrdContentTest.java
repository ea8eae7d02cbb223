package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link InitrdContent} into a real archive: merged with a tree, explicit modes, deterministic. */
class InitrdContentTest {
    @TempDir
    Path dir;

    InitrdContent content() throws IOException {
        Path root = dir.resolve("sysroot");
        Files.createDirectories(root.resolve("usr/lib/x86_64-linux-gnu"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Files.createDirectories(root.resolve("lib64"));
        Files.write(root.resolve("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), new TestElf().bytes());
        Files.createSymbolicLink(root.resolve("lib64/ld-linux-x86-64.so.2"), Path.of("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
        Files.write(root.resolve("usr/lib/x86_64-linux-gnu/libv.so.1.0"), new TestElf().soname("libv.so.1").bytes());
        Files.createSymbolicLink(root.resolve("usr/lib/x86_64-linux-gnu/libv.so.1"), Path.of("libv.so.1.0"));
        Files.createDirectories(root.resolve("usr/sbin"));
        Files.write(root.resolve("usr/sbin/tool"), new TestElf().interp("/lib64/ld-linux-x86-64.so.2").needs("libv.so.1").bytes());
        Path mods = Files.createDirectories(dir.resolve("modules/kernel"));
        Files.write(mods.resolve("a-b.ko"), KernelModulesTest.ko(1));
        Files.write(mods.resolve("c.ko"), KernelModulesTest.ko(2));
        Files.writeString(dir.resolve("modules/modules.dep"), "kernel/a-b.ko: kernel/c.ko\nkernel/c.ko:\n");
        return InitrdContent.resolve(SharedLibraryResolver.under(root), List.of(Path.of("/usr/sbin/tool")), dir.resolve("modules"),
                List.of("a_b"));
    }

    record Listed(String name, int mode, String body) {
    }

    static byte[] bytes(InitrdContent c, Path tree) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InitrdWriter w = new InitrdWriter(out, InitrdOptions.defaults(InitrdCompression.NONE))) {
            if (tree != null) {
                InitrdTree.add(tree, w, false, Set.of());
            }
            c.addTo(w);
            w.finish();
        }
        return out.toByteArray();
    }

    List<Listed> archive(InitrdContent c, Path tree) throws IOException {
        List<Listed> l = new ArrayList<>();
        try (CpioArchiveInputStream in = new CpioArchiveInputStream(new java.io.ByteArrayInputStream(bytes(c, tree)))) {
            CpioArchiveEntry e;
            while ((e = in.getNextCPIOEntry()) != null) {
                byte[] body = in.readAllBytes();
                l.add(new Listed(e.getName(), (int) e.getMode(), e.isSymbolicLink() || e.getName().endsWith("load-order")
                        ? new String(body, StandardCharsets.UTF_8) : ""));
            }
        }
        return l;
    }

    @Test
    void programsLibrariesAndModulesLandAtTheirPathsWithExplicitModes() throws IOException {
        Path tree = Files.createDirectories(dir.resolve("tree/lib"));
        Files.writeString(dir.resolve("tree/init"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(tree, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        List<Listed> l = archive(content(), dir.resolve("tree"));
        assertThat(l).extracting(Listed::name).containsExactly("init", "lib", "lib/modules", "lib/modules/a-b.ko", "lib/modules/c.ko",
                "lib/modules/load-order", "lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "lib/x86_64-linux-gnu/libv.so.1", "lib/x86_64-linux-gnu/libv.so.1.0", "lib64", "lib64/ld-linux-x86-64.so.2", "usr",
                "usr/sbin", "usr/sbin/tool");
        assertThat(l.get(1).mode()).as("the tree's own lib directory is kept as it is").isEqualTo(040700);
        assertThat(l.get(2).mode()).isEqualTo(040755);
        assertThat(l.get(3).mode()).isEqualTo(0100644);
        assertThat(l.get(5).body()).isEqualTo("/lib/modules/c.ko\n/lib/modules/a-b.ko\n");
        assertThat(l.get(8)).isEqualTo(new Listed("lib/x86_64-linux-gnu/libv.so.1", 0120777, "libv.so.1.0"));
        assertThat(l.get(9).mode()).isEqualTo(0100755);
        assertThat(l.get(11).body()).isEqualTo("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        assertThat(l.get(14).mode()).isEqualTo(0100755);
    }

    @Test
    void aClashWithTheTreeIsRefusedAndTheSameInputGivesTheSameBytes() throws IOException {
        Files.createDirectories(dir.resolve("tree/usr/sbin"));
        Files.writeString(dir.resolve("tree/usr/sbin/tool"), "mine");
        InitrdContent c = content();
        assertThatThrownBy(() -> archive(c, dir.resolve("tree"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/usr/sbin/tool is already in the initramfs");
        byte[] first = bytes(c, null);
        Files.walk(dir.resolve("sysroot")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Files.walk(dir.resolve("modules")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        assertThat(bytes(content(), null)).as("resolved again from scratch").isEqualTo(first);
        assertThatThrownBy(() -> InitrdContent.resolve(List.of(), null, List.of("x"))).isInstanceOf(IllegalArgumentException.class);
    }
}
