package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import dev.cairn.io.FormatException;
import dev.cairn.testing.SeededData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/** {@link KernelModules} on a synthetic modules directory: order, names, built-ins, compression, hostile indexes. */
class KernelModulesTest {
    @TempDir
    Path dir;

    void module(String path, byte[] content) throws IOException {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.write(p, content);
    }

    void dep(String text) throws IOException {
        Files.writeString(dir.resolve("modules.dep"), text);
    }

    static byte[] ko(int seed) {
        byte[] b = SeededData.bytes(seed, 5000);
        b[0] = 0x7f;
        b[1] = 'E';
        b[2] = 'L';
        b[3] = 'F';
        return b;
    }

    @Test
    void dependenciesComeFirstInModprobeOrderAndEachModuleOnce() throws IOException {
        // depmod lists dependencies last-to-load first: top needs mid and base, mid needs base.
        dep("""
                kernel/a/top-mod.ko: kernel/b/mid_mod.ko kernel/c/base.ko
                kernel/b/mid_mod.ko: kernel/c/base.ko
                kernel/c/base.ko:
                kernel/d/other.ko:
                """);
        for (String m : List.of("kernel/a/top-mod.ko", "kernel/b/mid_mod.ko", "kernel/c/base.ko", "kernel/d/other.ko")) {
            module(m, ko(m.length()));
        }
        Files.writeString(dir.resolve("modules.builtin"), "kernel/e/built-in.ko\n");
        KernelModules km = KernelModules.read(dir);
        assertThat(km.loadOrder(List.of("top_mod", "other", "mid-mod", "built_in", "base"))).extracting(KernelModules.Module::name)
                .containsExactly("base", "mid_mod", "top_mod", "other");
        assertThat(km.isBuiltin("built-in")).isTrue();
        assertThat(km.loadOrder(List.of("built-in"))).isEmpty();
        assertThat(km.loadOrder(List.of("top-mod")).get(2).plainFileName()).isEqualTo("top-mod.ko");
    }

    @Test
    void compressedModulesAreStoredDecompressed() throws IOException {
        byte[] plain = ko(1);
        ByteArrayOutputStream xz = new ByteArrayOutputStream();
        try (OutputStream o = new XZOutputStream(xz, new LZMA2Options())) {
            o.write(plain);
        }
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(gz)) {
            o.write(plain);
        }
        module("kernel/x.ko.xz", xz.toByteArray());
        module("kernel/z.ko.zst", Zstd.compress(plain));
        module("kernel/g.ko.gz", gz.toByteArray());
        module("kernel/p.ko", plain);
        dep("kernel/x.ko.xz:\nkernel/z.ko.zst: kernel/x.ko.xz\nkernel/g.ko.gz:\nkernel/p.ko:\n");
        KernelModules km = KernelModules.read(dir);
        List<KernelModules.Module> order = km.loadOrder(List.of("z", "g", "p"));
        assertThat(order).extracting(KernelModules.Module::plainFileName).containsExactly("x.ko", "z.ko", "g.ko", "p.ko");
        for (KernelModules.Module m : order) {
            assertThat(km.plainContent(m)).as(m.path()).isEqualTo(plain);
        }
        module("kernel/bad.ko.xz", "not xz at all".getBytes(StandardCharsets.US_ASCII));
        dep("kernel/bad.ko.xz:\n");
        KernelModules bad = KernelModules.read(dir);
        assertThatThrownBy(() -> bad.plainContent(bad.loadOrder(List.of("bad")).get(0))).isInstanceOf(FormatException.class)
                .hasMessageContaining("cannot decompress .ko.xz");
    }

    @Test
    void cyclesAreRefusedNamingTheModules() throws IOException {
        dep("kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/c.ko\nkernel/c.ko: kernel/a.ko\n");
        KernelModules km = KernelModules.read(dir);
        assertThatThrownBy(() -> km.loadOrder(List.of("a"))).isInstanceOf(FormatException.class)
                .hasMessageContaining("dependency cycle").hasMessageContaining("a -> b -> c -> a");
    }

    @Test
    void missingFilesUnknownNamesAndUnlistedDependenciesAreNamed() throws IOException {
        dep("kernel/here.ko:\nkernel/gone.ko:\nkernel/needs.ko: kernel/unlisted.ko\n");
        module("kernel/here.ko", ko(2));
        module("kernel/needs.ko", ko(3));
        KernelModules km = KernelModules.read(dir);
        assertThatThrownBy(() -> km.loadOrder(List.of("here", "gone"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("gone.ko").hasMessageContaining("listed in modules.dep but missing");
        assertThatThrownBy(() -> km.loadOrder(List.of("nope"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("nope").hasMessageContaining("not found");
        assertThatThrownBy(() -> km.loadOrder(List.of("needs"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("unlisted.ko");
        assertThatThrownBy(() -> KernelModules.read(dir.resolve("nowhere"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("modules.dep");
    }

    @Test
    void hostileIndexLinesAreRefused() throws IOException {
        for (String bad : List.of("../../etc/shadow.ko:\n", "/abs/x.ko:\n", "kernel/a.ko: kernel/../../b.ko\n", "no colon here\n",
                "kernel/notamodule.txt:\n", "kernel/a.ko:\nkernel/other/a.ko:\n")) {
            dep(bad);
            assertThatThrownBy(() -> KernelModules.read(dir)).as(bad).isInstanceOf(FormatException.class);
        }
    }
}
