package dev.cairn.uki.initrd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The closures cairn computes without running anything equal what the system's own tools report:
 * glibc's {@code ldd} (libc-bin) for the shared libraries of real programs, and kmod's
 * {@code modprobe --show-depends} for the modules of the installed Debian kernel.
 */
class InitrdContentOracleIT {
    private static final Pattern LDD_LIB = Pattern.compile("^\\s*(\\S+) => (\\S+) \\(0x[0-9a-f]+\\)$");
    private static final Pattern LDD_INTERP = Pattern.compile("^\\s*(/\\S+) \\(0x[0-9a-f]+\\)$");
    private static final Pattern INSMOD = Pattern.compile("^insmod (\\S+)\\s*$");
    private static final Pattern BUILTIN = Pattern.compile("^builtin (\\S+)\\s*$");

    @ParameterizedTest
    @ValueSource(strings = {"/usr/sbin/veritysetup", "/bin/ls", "/usr/bin/openssl"})
    void libraryClosureEqualsLdd(String program) throws Exception {
        ToolOracle ldd = ToolOracle.require("ldd", "libc-bin");
        ToolOracle.requireFile(Path.of(program), switch (program) {
            case "/usr/sbin/veritysetup" -> "cryptsetup-bin";
            case "/usr/bin/openssl" -> "openssl";
            default -> "coreutils";
        });
        ToolOracle.Result r = ldd.runOk(program);
        Map<String, String> expected = new TreeMap<>();
        Optional<String> interp = Optional.empty();
        for (String line : r.stdout().lines().toList()) {
            Matcher m = LDD_LIB.matcher(line);
            Matcher i = LDD_INTERP.matcher(line);
            if (m.matches()) {
                expected.put(m.group(1), m.group(2));
            } else if (i.matches()) {
                interp = Optional.of(i.group(1));
            } else {
                assertThat(line).as("ldd line not understood").contains("linux-vdso.so.1");
            }
        }
        SharedLibraryResolver.Closure c = SharedLibraryResolver.host().resolve(program);
        System.out.printf("[InitrdContentOracleIT] %s: %d libraries, %d files (ldd: %d)%n", program, c.libraries().size(), c.files().size(),
                expected.size());
        assertThat(c.libraries()).as("cairn vs ldd " + program).isEqualTo(expected);
        assertThat(c.interpreter()).isEqualTo(interp);
        // Every file to copy exists, links end at regular files that are in the list too.
        for (SharedLibraryResolver.HostFile f : c.files()) {
            if (f.isSymlink()) {
                String target = f.linkTarget().startsWith("/") ? f.linkTarget()
                        : SharedLibraryResolver.normalize(SharedLibraryResolver.dirName(f.path()) + "/" + f.linkTarget());
                assertThat(c.files()).extracting(SharedLibraryResolver.HostFile::path).contains(SharedLibraryResolver.normalize(target));
            } else {
                assertThat(Files.isRegularFile(f.source())).as(f.toString()).isTrue();
            }
        }
        List<String> paths = c.files().stream().map(SharedLibraryResolver.HostFile::path).toList();
        assertThat(paths).contains(program).containsAll(expected.values()).contains(interp.get()).isSorted();
    }

    @ParameterizedTest
    @ValueSource(strings = {"dm-verity", "squashfs", "virtio_blk", "virtio-pci", "efivarfs", "dm_mod"})
    void moduleClosureEqualsModprobeShowDepends(String module) throws Exception {
        ToolOracle modprobe = ToolOracle.require("modprobe", "kmod");
        for (String release : releases()) {
            Path modulesDir = ToolOracle.requireFile(Path.of("/lib/modules", release, "modules.dep"), "linux-image-amd64").getParent();
            ToolOracle.Result r = modprobe.runOk("-S", release, "--show-depends", module);
            List<String> expected = new ArrayList<>();
            boolean builtin = false;
            for (String line : r.stdout().lines().toList()) {
                Matcher m = INSMOD.matcher(line);
                if (m.matches()) {
                    expected.add(Path.of(m.group(1)).toString());
                } else if (BUILTIN.matcher(line).matches()) {
                    builtin = true;
                } else {
                    throw new AssertionError("modprobe line not understood: " + line);
                }
            }
            KernelModules km = KernelModules.read(modulesDir);
            List<String> ours = km.loadOrder(List.of(module)).stream().map(m -> modulesDir.resolve(m.path()).toString()).toList();
            System.out.printf("[InitrdContentOracleIT] %s (%s): %s%n", module, release, ours);
            assertThat(ours).as("cairn vs modprobe -S %s --show-depends %s", release, module).isEqualTo(expected);
            assertThat(km.isBuiltin(module)).isEqualTo(builtin);
        }
    }

    /** The boot tests' kernel ({@link DebianBootFiles#kernel()}) and every other installed one (uncompressed and .ko.xz modules). */
    static List<String> releases() throws java.io.IOException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        out.add(DebianBootFiles.release(DebianBootFiles.kernel()));
        try (var s = Files.list(Path.of("/boot"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("vmlinuz-")).map(n -> n.substring("vmlinuz-".length()))
                    .filter(r -> Files.isRegularFile(Path.of("/lib/modules", r, "modules.dep"))).forEach(out::add);
        }
        return List.copyOf(out);
    }

    @org.junit.jupiter.api.Test
    void combinedModulesFollowModprobeOrderAndAreLoadableKoFiles() throws Exception {
        ToolOracle modprobe = ToolOracle.require("modprobe", "kmod");
        for (String release : releases()) {
            Path modulesDir = Path.of("/lib/modules", release);
            List<String> names = List.of("dm-verity", "squashfs", "virtio_blk", "virtio_pci");
            List<String> expected = new ArrayList<>();
            for (String n : names) {
                for (String line : modprobe.runOk("-S", release, "--show-depends", n).stdout().lines().toList()) {
                    Matcher m = INSMOD.matcher(line);
                    if (m.matches()) {
                        String file = Path.of(m.group(1)).getFileName().toString().replaceFirst("\\.ko(\\.xz|\\.zst|\\.gz)?$", ".ko");
                        String path = InitrdContent.MODULES_DIR + "/" + file;
                        if (!expected.contains(path)) {
                            expected.add(path);
                        }
                    }
                }
            }
            InitrdContent c = InitrdContent.resolve(List.of(), modulesDir, names);
            assertThat(c.moduleLoadOrder()).as(release).isEqualTo(expected);
            InitrdContent.Item order = c.items().stream().filter(i -> i.path().equals(InitrdContent.LOAD_ORDER)).findFirst().orElseThrow();
            assertThat(new String(order.content(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(String.join("\n", expected) + "\n");
            for (InitrdContent.Item i : c.items()) {
                if (i.path().endsWith(".ko")) {
                    // decompressed: an ELF relocatable object (e_type 1) that ends with the module signature trailer
                    byte[] b = i.content();
                    assertThat(b).as(i.path()).startsWith(new byte[] {0x7f, 'E', 'L', 'F'});
                    assertThat(b[16]).as(i.path() + " e_type").isEqualTo((byte) 1);
                    String tail = new String(b, b.length - 28, 28, java.nio.charset.StandardCharsets.US_ASCII);
                    assertThat(tail).as(i.path() + " keeps its signature").isEqualTo("~Module signature appended~\n");
                }
            }
        }
    }
}
