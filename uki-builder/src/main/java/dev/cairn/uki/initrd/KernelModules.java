package dev.cairn.uki.initrd;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.cairn.io.FormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * The modules of one kernel as {@code depmod} describes them in {@code <modulesDir>/modules.dep}
 * ({@code path: dependency-path …}, paths relative to the directory) and
 * {@code modules.builtin} (one path per line: compiled into the kernel, nothing to load), and the
 * load order {@code modprobe} would use: each module's dependencies (in reverse {@code modules.dep}
 * order, as kmod walks them, each one's own dependencies first) before the module itself.
 *
 * <p>Module names match like modprobe matches them: {@code -} and {@code _} are the same, the
 * name is the file name without {@code .ko}, {@code .ko.xz}, {@code .ko.zst} or {@code .ko.gz}.
 * Aliases ({@code modules.alias}) are not looked at. Paths in {@code modules.dep} that leave the
 * directory, dependency cycles and listed files that do not exist are refused.
 */
public final class KernelModules {
    /** Largest module accepted after decompression (the biggest Debian module is about 20 MiB). */
    static final long MAX_MODULE_SIZE = 256L << 20;
    private static final long MAX_INDEX_SIZE = 64L << 20;
    private static final List<String> SUFFIXES = List.of(".ko.xz", ".ko.zst", ".ko.gz", ".ko");

    private final Path dir;
    /** normalised name → module, in modules.dep order. */
    private final Map<String, Module> modules;
    private final Set<String> builtin;

    /**
     * One loadable module.
     *
     * @param name         normalised name ({@code dm_verity})
     * @param path         path relative to the modules directory, as in {@code modules.dep}
     * @param dependencies paths of its dependencies, as listed
     */
    public record Module(String name, String path, List<String> dependencies) {
        public Module {
            dependencies = List.copyOf(dependencies);
        }

        /** The file name without a compression suffix: {@code dm-verity.ko}. */
        public String plainFileName() {
            String base = path.substring(path.lastIndexOf('/') + 1);
            return base.substring(0, base.length() - suffix(base).length()) + ".ko";
        }
    }

    private KernelModules(Path dir, Map<String, Module> modules, Set<String> builtin) {
        this.dir = dir;
        this.modules = modules;
        this.builtin = builtin;
    }

    /** Reads {@code modules.dep} (required) and {@code modules.builtin} (optional) of {@code modulesDir}. */
    public static KernelModules read(Path modulesDir) throws IOException {
        Path dep = modulesDir.resolve("modules.dep");
        if (!Files.isRegularFile(dep)) {
            throw new NoSuchFileException(dep.toString(), null, "no modules.dep (run depmod, or point at /lib/modules/<release>)");
        }
        Map<String, Module> mods = new java.util.LinkedHashMap<>();
        int lineNo = 0;
        for (String line : lines(dep)) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new FormatException("modules.dep line " + lineNo, line, dep + ": expected 'path: dependencies'");
            }
            String path = checkPath(line.substring(0, colon).strip(), dep, lineNo);
            List<String> deps = new ArrayList<>();
            for (String d : line.substring(colon + 1).strip().split("\\s+")) {
                if (!d.isEmpty()) {
                    deps.add(checkPath(d, dep, lineNo));
                }
            }
            Module m = new Module(nameOf(path), path, deps);
            if (mods.putIfAbsent(m.name(), m) != null) {
                throw new FormatException("modules.dep line " + lineNo, path, dep + ": module " + m.name() + " is listed twice");
            }
        }
        Set<String> builtin = new HashSet<>();
        Path b = modulesDir.resolve("modules.builtin");
        if (Files.isRegularFile(b)) {
            int n = 0;
            for (String line : lines(b)) {
                n++;
                if (!line.isBlank()) {
                    builtin.add(nameOf(checkPath(line.strip(), b, n)));
                }
            }
        }
        return new KernelModules(modulesDir, mods, builtin);
    }

    /** Whether {@code name} is compiled into the kernel ({@code modules.builtin}). */
    public boolean isBuiltin(String name) {
        return builtin.contains(normalise(name));
    }

    /**
     * The modules to load for {@code names}, dependencies first, each once; built-in names
     * contribute nothing.
     *
     * @throws NoSuchFileException naming the module when it is neither listed nor built in, or a listed file is missing
     * @throws FormatException on a dependency cycle
     */
    public List<Module> loadOrder(List<String> names) throws IOException {
        LinkedHashSet<String> order = new LinkedHashSet<>();
        for (String n : names) {
            String key = normalise(n);
            Module m = modules.get(key);
            if (m == null) {
                if (builtin.contains(key)) {
                    continue;
                }
                throw new NoSuchFileException(n, null, "kernel module not found in " + dir.resolve("modules.dep") + " (nor built in)");
            }
            visit(m, order, new ArrayList<>());
        }
        List<Module> out = new ArrayList<>();
        for (String k : order) {
            Module m = modules.get(k);
            if (!Files.isRegularFile(dir.resolve(m.path()))) {
                throw new NoSuchFileException(dir.resolve(m.path()).toString(), null, "module " + m.name() + " is listed in modules.dep but missing");
            }
            out.add(m);
        }
        return out;
    }

    private void visit(Module m, LinkedHashSet<String> order, List<String> stack) throws IOException {
        if (order.contains(m.name())) {
            return;
        }
        if (stack.contains(m.name())) {
            List<String> cycle = new ArrayList<>(stack.subList(stack.indexOf(m.name()), stack.size()));
            cycle.add(m.name());
            throw new FormatException("modules.dep", String.join(" -> ", cycle), "dependency cycle between kernel modules");
        }
        stack.add(m.name());
        // depmod lists dependencies last-to-load first; kmod walks the list from its end (it prepends while parsing).
        for (int i = m.dependencies().size() - 1; i >= 0; i--) {
            String d = m.dependencies().get(i);
            Module dm = modules.get(nameOf(d));
            if (dm == null) {
                if (builtin.contains(nameOf(d))) {
                    continue;
                }
                throw new NoSuchFileException(d, null, "dependency of " + m.name() + " is not listed in modules.dep");
            }
            visit(dm, order, stack);
        }
        stack.remove(stack.size() - 1);
        order.add(m.name());
    }

    /** The module's file, decompressed ({@code .ko.xz}, {@code .ko.zst}, {@code .ko.gz}) or as is. */
    public byte[] plainContent(Module m) throws IOException {
        Path f = dir.resolve(m.path());
        String suffix = suffix(m.path());
        long size = Files.size(f);
        if (size > MAX_MODULE_SIZE) {
            throw new FormatException("module size", size, f + ": larger than " + MAX_MODULE_SIZE + " bytes");
        }
        if (suffix.equals(".ko")) {
            return Files.readAllBytes(f);
        }
        try (InputStream raw = Files.newInputStream(f);
                InputStream in = switch (suffix) {
                    case ".ko.xz" -> new XZInputStream(raw);
                    case ".ko.zst" -> new ZstdInputStreamNoFinalizer(raw);
                    case ".ko.gz" -> new GZIPInputStream(raw);
                    default -> throw new IllegalStateException(suffix);
                }) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (out.size() + (long) n > MAX_MODULE_SIZE) {
                    throw new FormatException("decompressed size", "> " + MAX_MODULE_SIZE, f + ": decompresses to more than "
                            + MAX_MODULE_SIZE + " bytes");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (FormatException e) {
            throw e;
        } catch (IOException e) {
            throw new FormatException(f + ": cannot decompress " + suffix + ": " + e.getMessage(), e);
        }
    }

    /** {@code dm-verity} → {@code dm_verity}. */
    public static String normalise(String name) {
        return name.replace('-', '_');
    }

    private static String nameOf(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1);
        return normalise(base.substring(0, base.length() - suffix(base).length()));
    }

    private static String suffix(String file) {
        for (String s : SUFFIXES) {
            if (file.endsWith(s) && file.length() > s.length()) {
                return s;
            }
        }
        return "";
    }

    private static String checkPath(String p, Path file, int line) throws FormatException {
        if (p.startsWith("/") || p.contains("\\")) {
            throw new FormatException(file.getFileName() + " line " + line, p, file + ": module paths must be relative");
        }
        for (String part : p.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new FormatException(file.getFileName() + " line " + line, p, file + ": module path must stay inside the modules directory");
            }
        }
        if (suffix(p).isEmpty()) {
            throw new FormatException(file.getFileName() + " line " + line, p, file + ": not a .ko, .ko.xz, .ko.zst or .ko.gz file");
        }
        return p;
    }

    private static List<String> lines(Path f) throws IOException {
        long size = Files.size(f);
        if (size > MAX_INDEX_SIZE) {
            throw new FormatException("size", size, f + ": larger than " + MAX_INDEX_SIZE + " bytes");
        }
        return List.of(new String(Files.readAllBytes(f), StandardCharsets.UTF_8).split("\n"));
    }
}
