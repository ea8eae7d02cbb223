package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SharedLibraryResolver} below a synthetic root: search order, links, $ORIGIN, loops and clear failures. */
class SharedLibraryResolverTest {
    static final String LD = "/lib64/ld-linux-x86-64.so.2";
    @TempDir
    Path root;

    Path put(String guestPath, TestElf elf) throws IOException {
        Path p = root.resolve(guestPath.substring(1));
        Files.createDirectories(p.getParent());
        return Files.write(p, elf.bytes());
    }

    void link(String guestPath, String target) throws IOException {
        Path p = root.resolve(guestPath.substring(1));
        Files.createDirectories(p.getParent());
        Files.createSymbolicLink(p, Path.of(target));
    }

    /** Debian's layout: /lib -> usr/lib, /lib64/ld-linux-x86-64.so.2 -> absolute link into the multiarch dir. */
    void debianBase() throws IOException {
        Files.createDirectories(root.resolve("usr/lib/x86_64-linux-gnu"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        put("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", new TestElf().soname("ld-linux-x86-64.so.2"));
        link(LD, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        put("/usr/lib/x86_64-linux-gnu/libc.so.6", new TestElf().soname("libc.so.6").needs("ld-linux-x86-64.so.2"));
    }

    @Test
    void followsTheLoaderSearchAndKeepsSymlinks() throws IOException {
        debianBase();
        put("/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", new TestElf().soname("libfoo.so.1").needs("libc.so.6", "libpriv.so"));
        link("/usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2.3");
        // libpriv is found through the program's DT_RPATH, which libfoo (no DT_RUNPATH) inherits.
        put("/opt/app/lib/libpriv.so", new TestElf().needs("libfoo.so.1")); // loops back to libfoo
        put("/opt/app/bin/app", new TestElf().interp(LD).needs("libfoo.so.1", "libc.so.6").rpath("$ORIGIN/../lib"));

        SharedLibraryResolver.Closure c = SharedLibraryResolver.under(root).resolve("/opt/app/bin/app");
        assertThat(c.interpreter()).contains(LD);
        assertThat(c.libraries()).isEqualTo(Map.of(
                "libfoo.so.1", "/lib/x86_64-linux-gnu/libfoo.so.1",
                "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6",
                "libpriv.so", "/opt/app/lib/libpriv.so"));
        assertThat(c.files()).extracting(SharedLibraryResolver.HostFile::path).containsExactly(
                "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/libfoo.so.1",
                "/lib/x86_64-linux-gnu/libfoo.so.1.2.3",
                LD,
                "/opt/app/bin/app",
                "/opt/app/lib/libpriv.so");
        SharedLibraryResolver.HostFile foo = c.files().get(2);
        assertThat(foo.isSymlink()).isTrue();
        assertThat(foo.linkTarget()).isEqualTo("libfoo.so.1.2.3");
        SharedLibraryResolver.HostFile ld = c.files().get(4);
        assertThat(ld.linkTarget()).isEqualTo("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        assertThat(c.files().get(3).source()).isEqualTo(root.resolve("usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3"));
    }

    @Test
    void runpathIsNotInheritedButRpathIs() throws IOException {
        debianBase();
        put("/opt/a/libdep.so", new TestElf());
        put("/opt/b/libmid.so", new TestElf().needs("libdep.so")); // no paths of its own
        put("/usr/bin/rp", new TestElf().interp(LD).needs("libmid.so").rpath("/opt/b:/opt/a"));
        assertThat(SharedLibraryResolver.under(root).resolve("/usr/bin/rp").libraries()).containsEntry("libdep.so", "/opt/a/libdep.so");
        put("/usr/bin/run", new TestElf().interp(LD).needs("libmid.so").runpath("/opt/b:/opt/a"));
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/run")).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("shared library libdep.so needed by /opt/b/libmid.so not found");
    }

    @Test
    void ldSoConfDirectoriesComeBeforeTheDefaultsAndIncludesAreFollowedOnce() throws IOException {
        debianBase();
        put("/usr/lib/x86_64-linux-gnu/libz.so.1", new TestElf());
        put("/opt/z/libz.so.1", new TestElf());
        Files.createDirectories(root.resolve("etc/ld.so.conf.d"));
        Files.writeString(root.resolve("etc/ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n# comment\n");
        Files.writeString(root.resolve("etc/ld.so.conf.d/b.conf"), "/opt/z\n");
        Files.writeString(root.resolve("etc/ld.so.conf.d/a.conf"), "/opt/empty # trailing comment\ninclude ../ld.so.conf\n");
        put("/usr/bin/z", new TestElf().interp(LD).needs("libz.so.1"));
        SharedLibraryResolver r = SharedLibraryResolver.under(root);
        assertThat(r.configuredDirs()).containsExactly("/opt/empty", "/opt/z");
        assertThat(r.resolve("/usr/bin/z").libraries()).containsEntry("libz.so.1", "/opt/z/libz.so.1");
    }

    @Test
    void skipsLibrariesForAnotherMachineOrClass() throws IOException {
        debianBase();
        put("/opt/arm/libx.so", new TestElf().machine(183));
        Path x32 = put("/opt/x32/libx.so", new TestElf());
        byte[] b = Files.readAllBytes(x32);
        b[4] = 1; // ELFCLASS32
        Files.write(x32, b);
        put("/usr/lib/x86_64-linux-gnu/libx.so", new TestElf());
        put("/usr/bin/x", new TestElf().interp(LD).needs("libx.so").runpath("/opt/arm:/opt/x32"));
        assertThat(SharedLibraryResolver.under(root).resolve("/usr/bin/x").libraries()).containsEntry("libx.so", "/lib/x86_64-linux-gnu/libx.so");
    }

    @Test
    void originLoopsThroughASymlinkedDirectoryEnd() throws IOException {
        debianBase();
        link("/opt/loop/sub", ".");
        put("/opt/loop/liba.so", new TestElf().soname("liba.so").needs("libb.so").runpath("$ORIGIN/sub"));
        put("/opt/loop/libb.so", new TestElf().soname("libb.so").needs("liba.so", "libc.so.6").runpath("${ORIGIN}/sub"));
        put("/opt/loop/prog", new TestElf().interp(LD).needs("liba.so").runpath("$ORIGIN"));
        SharedLibraryResolver.Closure c = SharedLibraryResolver.under(root).resolve("/opt/loop/prog");
        assertThat(c.libraries()).containsOnlyKeys("liba.so", "libb.so", "libc.so.6");
        assertThat(c.libraries()).containsEntry("libb.so", "/opt/loop/sub/libb.so");
    }

    @Test
    void symlinkLoopsAndMissingLibrariesAreClearErrors() throws IOException {
        debianBase();
        link("/usr/lib/x86_64-linux-gnu/libself.so", "libself.so");
        put("/usr/bin/self", new TestElf().interp(LD).needs("libself.so"));
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/self")).isInstanceOf(FormatException.class)
                .hasMessageContaining("libself.so").hasMessageContaining("levels of symbolic links");
        put("/usr/bin/missing", new TestElf().interp(LD).needs("libc.so.6", "libnothere.so.7"));
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/missing")).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("shared library libnothere.so.7 needed by /usr/bin/missing not found in")
                .hasMessageContaining("/lib/x86_64-linux-gnu");
        put("/usr/bin/noint", new TestElf().interp("/lib64/ld-missing.so.2"));
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/noint")).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("program interpreter");
        Files.writeString(root.resolve("usr/bin/script"), "#!/bin/sh\n");
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/script")).isInstanceOf(FormatException.class)
                .hasMessageContaining("not an ELF file");
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("usr/bin/x")).isInstanceOf(FormatException.class)
                .hasMessageContaining("absolute");
    }

    @Test
    void libPlatformTokensAreRefusedNotGuessed() throws IOException {
        debianBase();
        put("/usr/bin/lib", new TestElf().interp(LD).needs("libq.so").runpath("/opt/$LIB"));
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/lib")).isInstanceOf(FormatException.class)
                .hasMessageContaining("$LIB");
    }

    @Test
    void neededPathsAreTakenAsGivenWhenAbsoluteAndRefusedWhenRelative() throws IOException {
        debianBase();
        put("/opt/p/libabs.so", new TestElf());
        put("/usr/bin/abs", new TestElf().interp(LD).needs("/opt/p/libabs.so"));
        assertThat(SharedLibraryResolver.under(root).resolve("/usr/bin/abs").libraries()).containsEntry("/opt/p/libabs.so", "/opt/p/libabs.so");
        put("/usr/bin/rel", new TestElf().interp(LD).needs("../p/libabs.so"));
        assertThatThrownBy(() -> SharedLibraryResolver.under(root).resolve("/usr/bin/rel")).isInstanceOf(FormatException.class)
                .hasMessageContaining("relative library path");
    }

    @Test
    void staticProgramIsJustItself() throws IOException {
        put("/bin/static", new TestElf());
        SharedLibraryResolver.Closure c = SharedLibraryResolver.under(root).resolve("/bin/static");
        assertThat(c.interpreter()).isEmpty();
        assertThat(c.libraries()).isEmpty();
        assertThat(c.files()).extracting(SharedLibraryResolver.HostFile::path).isEqualTo(List.of("/bin/static"));
    }
}
