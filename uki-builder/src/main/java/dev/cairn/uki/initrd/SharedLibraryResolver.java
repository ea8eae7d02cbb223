package dev.cairn.uki.initrd;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Finds the shared libraries a dynamically linked ELF64 program loads, the way glibc's
 * {@code ld.so} (ld.so(8), "Rpath token expansion") searches for them, without running anything:
 * for each {@code DT_NEEDED} name, breadth-first in load order,
 *
 * <ol>
 *   <li>a name containing {@code /} is an absolute path, used as given (a relative one is refused);</li>
 *   <li>{@code DT_RPATH} of the loading object, then of the object that loaded it, up to the
 *       program, as long as none of them has {@code DT_RUNPATH};</li>
 *   <li>{@code DT_RUNPATH} of the loading object (only its own);</li>
 *   <li>the directories of {@code /etc/ld.so.conf} (with its {@code include} globs), which is what
 *       {@code ldconfig} puts into the cache;</li>
 *   <li>the multiarch defaults {@code /lib/x86_64-linux-gnu}, {@code /usr/lib/x86_64-linux-gnu},
 *       {@code /lib64}, {@code /lib}, {@code /usr/lib}.</li>
 * </ol>
 *
 * {@code $ORIGIN} (and {@code ${ORIGIN}}) expands to the directory the loading object was found
 * in; {@code $LIB} and {@code $PLATFORM} are refused (no guessing). A candidate that is not an
 * ELF64 file for the program's machine is skipped, as {@code ld.so} does. A name that was loaded
 * once (by its {@code DT_NEEDED} name or {@code DT_SONAME}) is not searched again, so loops
 * end; the program interpreter counts as loaded. {@code LD_LIBRARY_PATH} and {@code LD_PRELOAD}
 * are ignored: the initramfs does not inherit the build machine's environment.
 *
 * <p>Every path is read below a root directory ({@code /} for the build machine), symbolic links
 * included: an absolute link target is resolved below the root too.
 */
public final class SharedLibraryResolver {
    /** The multiarch search defaults of Debian's x86-64 {@code ld.so}. */
    public static final List<String> DEFAULT_DIRS = List.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/lib",
            "/usr/lib");
    /** More objects than any real program loads: a bound for hostile inputs. */
    static final int MAX_OBJECTS = 4096;
    private static final int MAX_SYMLINKS = 40;
    private static final int MAX_INCLUDE_DEPTH = 16;

    private final Path root;
    private final List<String> cacheDirs;

    private SharedLibraryResolver(Path root, List<String> cacheDirs) {
        this.root = root;
        this.cacheDirs = List.copyOf(cacheDirs);
    }

    /** Resolves against the build machine: root {@code /}, its {@code /etc/ld.so.conf}. */
    public static SharedLibraryResolver host() throws IOException {
        return under(Path.of("/"));
    }

    /** Resolves against a system image below {@code root}, using {@code root/etc/ld.so.conf} when present. */
    public static SharedLibraryResolver under(Path root) throws IOException {
        SharedLibraryResolver r = new SharedLibraryResolver(root.toAbsolutePath().normalize(), List.of());
        List<String> dirs = new ArrayList<>();
        r.readConf("/etc/ld.so.conf", dirs, new HashSet<>(), 0);
        return new SharedLibraryResolver(r.root, dirs);
    }

    /** The {@code ld.so.conf} directories, in order. */
    public List<String> configuredDirs() {
        return cacheDirs;
    }

    /**
     * One program and what it loads.
     *
     * @param program     absolute path of the program (as given)
     * @param interpreter its {@code PT_INTERP}, empty for a static program
     * @param libraries   each {@code DT_NEEDED} name (of the program and every library) and the path it was found at,
     *                    as {@code ldd} prints them ({@code libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6}); names the
     *                    interpreter satisfies are not listed
     * @param files       every file the initramfs needs for this, sorted by path (links and their targets)
     */
    public record Closure(String program, Optional<String> interpreter, Map<String, String> libraries, List<HostFile> files) {
        public Closure {
            libraries = java.util.Collections.unmodifiableMap(new TreeMap<>(libraries));
            files = List.copyOf(files);
        }
    }

    /** One file of the build machine to copy to the same absolute path: a regular file or a symbolic link. */
    public record HostFile(String path, Path source, String linkTarget) {
        public boolean isSymlink() {
            return linkTarget != null;
        }
    }

    private record Loaded(String path, ElfLinkInfo info, Loaded loader) {
    }

    /** Resolves {@code program} (an absolute path below the root) and its libraries. */
    public Closure resolve(String program) throws IOException {
        String prog = absolute(program, "program");
        Path progFile = hostPath(prog).orElseThrow(() -> new NoSuchFileException(root.resolve(prog.substring(1)).toString()));
        if (!ElfLinkInfo.isElf(progFile)) {
            throw new FormatException(prog + " is not an ELF file (scripts need their interpreter added as a binary)");
        }
        ElfLinkInfo info = ElfLinkInfo.read(progFile);
        Map<String, HostFile> files = new TreeMap<>();
        addChain(prog, files);
        Map<String, String> loadedNames = new LinkedHashMap<>();
        Map<String, String> libraries = new LinkedHashMap<>();
        if (info.interpreter().isPresent()) {
            String interp = absolute(info.interpreter().get(), "PT_INTERP of " + prog);
            Path ip = hostPath(interp).orElseThrow(() -> new NoSuchFileException(interp, null,
                    "program interpreter of " + prog + " not found"));
            addChain(interp, files);
            loadedNames.put(baseName(interp), interp);
            ElfLinkInfo.read(ip).soname().ifPresent(s -> loadedNames.put(s, interp));
        }
        Deque<Loaded> queue = new ArrayDeque<>();
        queue.add(new Loaded(prog, info, null));
        int objects = 0;
        while (!queue.isEmpty()) {
            Loaded obj = queue.removeFirst();
            if (++objects > MAX_OBJECTS) {
                throw new FormatException(prog + ": more than " + MAX_OBJECTS + " shared objects; refusing to continue");
            }
            for (String name : obj.info().needed()) {
                if (loadedNames.containsKey(name)) {
                    continue;
                }
                String found = find(name, obj, info.machine());
                loadedNames.put(name, found);
                libraries.put(name, found);
                addChain(found, files);
                ElfLinkInfo lib = ElfLinkInfo.read(hostPath(found).orElseThrow());
                lib.soname().ifPresent(s -> loadedNames.putIfAbsent(s, found));
                queue.addLast(new Loaded(found, lib, obj));
            }
        }
        return new Closure(prog, info.interpreter(), libraries, new ArrayList<>(files.values()));
    }

    private String find(String name, Loaded from, int machine) throws IOException {
        if (name.indexOf('/') >= 0) {
            if (!name.startsWith("/")) {
                // ld.so opens it relative to the current directory, which the initramfs does not share.
                throw new FormatException("DT_NEEDED", name, from.path() + ": relative library path is not supported");
            }
            String p = normalize(name);
            if (compatible(p, machine)) {
                return p;
            }
            throw new NoSuchFileException(name, null, "library needed by " + from.path() + " not found (or not an ELF64 file for this machine)");
        }
        List<String> dirs = new ArrayList<>();
        if (!from.info().hasRunpath()) {
            for (Loaded l = from; l != null; l = l.loader()) {
                if (l.info().hasRunpath()) {
                    break;
                }
                for (String d : l.info().rpath()) {
                    dirs.add(expand(d, l));
                }
            }
        } else {
            for (String d : from.info().runpath()) {
                dirs.add(expand(d, from));
            }
        }
        dirs.addAll(cacheDirs);
        dirs.addAll(DEFAULT_DIRS);
        for (String d : dirs) {
            String candidate = normalize(d + "/" + name);
            if (compatible(candidate, machine)) {
                return candidate;
            }
        }
        throw new NoSuchFileException(name, null, "shared library " + name + " needed by " + from.path() + " not found in "
                + String.join(":", new java.util.LinkedHashSet<>(dirs)));
    }

    private boolean compatible(String guestPath, int machine) throws IOException {
        Optional<Path> p = hostPath(guestPath);
        if (p.isEmpty() || !Files.isRegularFile(p.get()) || !ElfLinkInfo.isElf(p.get())) {
            return false;
        }
        try {
            return ElfLinkInfo.read(p.get()).machine() == machine;
        } catch (dev.cairn.io.UnsupportedFeatureException wrongClass) {
            return false; // a 32-bit or big-endian library: ld.so skips it too
        }
    }

    private static String expand(String dir, Loaded obj) throws FormatException {
        if (dir.contains("$LIB") || dir.contains("${LIB}") || dir.contains("$PLATFORM") || dir.contains("${PLATFORM}")) {
            throw new FormatException("DT_RUNPATH", dir, obj.path() + ": $LIB and $PLATFORM are not supported");
        }
        String origin = dirName(obj.path());
        String d = dir.replace("${ORIGIN}", origin).replace("$ORIGIN", origin);
        if (!d.startsWith("/")) {
            // ld.so would search relative to the current directory; the initramfs has none to offer.
            throw new FormatException("DT_RUNPATH", dir, obj.path() + ": relative library directory is not supported");
        }
        return normalize(d);
    }

    /** Adds {@code path} and, if it is a symbolic link, the chain of links to the final regular file. */
    private void addChain(String path, Map<String, HostFile> files) throws IOException {
        String p = path;
        for (int hops = 0; hops <= MAX_SYMLINKS; hops++) {
            if (files.containsKey(p)) {
                return;
            }
            Optional<Path> parent = hostPath(dirName(p));
            if (parent.isEmpty()) {
                throw new NoSuchFileException(p, null, "parent directory not found");
            }
            Path here = parent.get().resolve(baseName(p));
            BasicFileAttributes a = Files.readAttributes(here, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                String target = Files.readSymbolicLink(here).toString();
                files.put(p, new HostFile(p, null, target));
                p = target.startsWith("/") ? normalize(target) : normalize(dirName(p) + "/" + target);
                continue;
            }
            if (!a.isRegularFile()) {
                throw new FormatException(p + " is not a regular file");
            }
            files.put(p, new HostFile(p, here, null));
            return;
        }
        throw new FormatException(path + ": more than " + MAX_SYMLINKS + " levels of symbolic links");
    }

    /** The host file for an absolute guest path, every symbolic link followed below the root; empty when it does not exist. */
    Optional<Path> hostPath(String guestPath) throws IOException {
        Deque<String> todo = new ArrayDeque<>(parts(guestPath));
        List<String> done = new ArrayList<>();
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.removeFirst();
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            Path here = join(done).resolve(part);
            if (!Files.exists(here, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            if (Files.isSymbolicLink(here)) {
                if (++hops > MAX_SYMLINKS) {
                    throw new FormatException(guestPath + ": more than " + MAX_SYMLINKS + " levels of symbolic links");
                }
                String target = Files.readSymbolicLink(here).toString();
                List<String> t = parts(target);
                for (int i = t.size() - 1; i >= 0; i--) {
                    todo.addFirst(t.get(i));
                }
                if (target.startsWith("/")) {
                    done.clear();
                }
                continue;
            }
            done.add(part);
        }
        return Optional.of(join(done));
    }

    private Path join(List<String> parts) {
        Path p = root;
        for (String s : parts) {
            p = p.resolve(s);
        }
        return p;
    }

    private void readConf(String guestPath, List<String> dirs, Set<String> seen, int depth) throws IOException {
        if (depth > MAX_INCLUDE_DEPTH || !seen.add(guestPath)) {
            return; // include loop: ldconfig reads each file once as well
        }
        Optional<Path> file = hostPath(guestPath);
        if (file.isEmpty() || !Files.isRegularFile(file.get())) {
            return;
        }
        for (String raw : Files.readAllLines(file.get(), java.nio.charset.StandardCharsets.UTF_8)) {
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
            if (line.isEmpty() || line.startsWith("hwcap ")) {
                continue;
            }
            if (line.startsWith("include ") || line.startsWith("include\t")) {
                for (String pattern : line.substring(8).strip().split("\\s+")) {
                    String abs = pattern.startsWith("/") ? pattern : dirName(guestPath) + "/" + pattern;
                    for (String inc : glob(normalize(abs))) {
                        readConf(inc, dirs, seen, depth + 1);
                    }
                }
                continue;
            }
            for (String d : line.split("[\\s:,]+")) {
                if (d.startsWith("/") && !dirs.contains(normalize(d))) {
                    dirs.add(normalize(d));
                }
            }
        }
    }

    /** Files matching a glob in the last component only (as {@code include /etc/ld.so.conf.d/*.conf}), sorted. */
    private List<String> glob(String pattern) throws IOException {
        String dir = dirName(pattern);
        String name = baseName(pattern);
        Optional<Path> d = hostPath(dir);
        if (d.isEmpty() || !Files.isDirectory(d.get())) {
            return List.of();
        }
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + name);
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d.get())) {
            for (Path p : ds) {
                if (m.matches(p.getFileName())) {
                    out.add(normalize(dir + "/" + p.getFileName()));
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static String absolute(String path, String what) throws FormatException {
        if (!path.startsWith("/")) {
            throw new FormatException(what, path, "must be an absolute path");
        }
        return normalize(path);
    }

    /** Lexical normalisation of an absolute path: no {@code .}, {@code ..} or empty components. */
    static String normalize(String abs) {
        Deque<String> out = new ArrayDeque<>();
        for (String s : abs.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                out.pollLast();
            } else {
                out.addLast(s);
            }
        }
        return "/" + String.join("/", out);
    }

    private static List<String> parts(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty() && !s.equals(".")) {
                out.add(s);
            }
        }
        return out;
    }

    static String dirName(String abs) {
        int slash = abs.lastIndexOf('/');
        return slash <= 0 ? "/" : abs.substring(0, slash);
    }

    static String baseName(String abs) {
        return abs.substring(abs.lastIndexOf('/') + 1);
    }
}
