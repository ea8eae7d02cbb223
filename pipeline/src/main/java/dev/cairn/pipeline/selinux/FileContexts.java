package dev.cairn.pipeline.selinux;

import dev.cairn.io.FormatException;
import dev.cairn.squashfs.EntryAttributes;
import dev.cairn.squashfs.EntryMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SELinux file contexts ({@code file_contexts}) with libselinux's matching, as
 * {@code setfiles -r ROOT FILE ROOT} labels a tree (libselinux 3.4 {@code label_file.c},
 * {@code label_file.h}, {@code label_support.c}; policycoreutils {@code setfiles}).
 *
 * <ul>
 * <li>Files read: {@code FILE}, then {@code FILE.homedirs} and {@code FILE.local} when they exist
 *     (setfiles opens the handle with a path and without "base only"); the substitutions
 *     {@code FILE.subs_dist} and {@code FILE.subs}. The compiled {@code .bin} files are not read
 *     (libselinux prefers one when it is at least as new; it is compiled from the same text).</li>
 * <li>A line is {@code REGEX [TYPE] CONTEXT}; {@code #} starts a comment line; fields are ASCII.
 *     TYPE is {@code --} (regular file), {@code -d}, {@code -l}, {@code -b}, {@code -c},
 *     {@code -p} (fifo) or {@code -s} (socket); without it any type matches.</li>
 * <li>REGEX is a PCRE2 pattern compiled with {@code PCRE2_DOTALL} as {@code "^" + REGEX + "$"}
 *     (concatenated, not grouped: a top-level {@code |} binds as PCRE2 reads it) and searched in
 *     the byte string of the path; it is translated to {@link java.util.regex} (POSIX classes,
 *     a literal {@code ]} first in a class, a {@code {} that is not a quantifier, ...).</li>
 * <li>Order: specifications without meta characters ({@code . ^ $ ? * + | [ ( {}, a backslash
 *     escaping the next character) go after all others, each group in file order; the
 *     <em>last</em> matching specification wins. A specification whose first path component is
 *     literal (its "stem") is tried only on paths with that first component.</li>
 * <li>Path: duplicate slashes collapsed, a trailing slash dropped; then the first matching
 *     substitution of {@code .subs} (later lines first), then of {@code .subs_dist} on the result
 *     (or on the path when {@code .subs} had none): {@code SRC} matches the path or a prefix of it
 *     ending before a {@code /}, and is replaced by {@code DST}.</li>
 * <li>{@code <<none>>} as the winning context, or no match at all: the entry is not labelled
 *     ({@link #lookup} returns null; setfiles leaves the file as it is).</li>
 * <li>Errors as setfiles reports them when it loads the file: a line with one field, an unknown
 *     type, an invalid regular expression, two specifications of {@code FILE} with the same regex
 *     and overlapping types.</li>
 * </ul>
 */
public final class FileContexts {
    /** Refuses larger files: the reference policy's file_contexts is about 400 KiB. */
    static final long MAX_FILE_BYTES = 64L << 20;
    private static final String NONE = "<<none>>";

    private final List<Spec> specs;
    private final List<Sub> subs;
    private final List<Sub> distSubs;
    private final String description;

    /** One specification line. {@code mode} 0: any type. */
    record Spec(String regex, int mode, String context, Pattern pattern, String stem, String prefix, boolean hasMetaChars,
                String file, int line) {
    }

    record Sub(String src, String dst) {
    }

    /**
     * Specification indices, ascending, by the directory their literal prefix fixes: the prefix up
     * to its last '/' ({@code /usr/lib} for {@code /usr/lib/.*\.so}, the empty string for
     * {@code /usr(/.*)?}). A shortcut only: a path can start with a prefix only when that
     * directory is one of its ancestors, so a lookup merges the lists of the path's ancestors.
     */
    private final Map<String, int[]> byDirectory = new HashMap<>();

    private FileContexts(List<Spec> specs, List<Sub> subs, List<Sub> distSubs, String description) {
        this.specs = specs;
        this.subs = subs;
        this.distSubs = distSubs;
        this.description = description;
        Map<String, List<Integer>> m = new HashMap<>();
        for (int i = 0; i < specs.size(); i++) {
            String p = specs.get(i).prefix();
            m.computeIfAbsent(p.substring(0, Math.max(0, p.lastIndexOf('/'))), k -> new ArrayList<>()).add(i);
        }
        m.forEach((k, v) -> byDirectory.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
    }

    /** Reads {@code file} and its companions ({@code .homedirs}, {@code .local}, {@code .subs_dist}, {@code .subs}). */
    public static FileContexts load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file contexts file");
        }
        Map<String, byte[]> parts = new java.util.LinkedHashMap<>();
        parts.put(file.toString(), read(file));
        for (String suffix : new String[] {".homedirs", ".local"}) {
            Path p = file.resolveSibling(file.getFileName() + suffix);
            if (Files.isRegularFile(p)) {
                parts.put(p.toString(), read(p));
            }
        }
        Path subs = file.resolveSibling(file.getFileName() + ".subs");
        Path dist = file.resolveSibling(file.getFileName() + ".subs_dist");
        return parse(parts, Files.isRegularFile(subs) ? read(subs) : null, Files.isRegularFile(dist) ? read(dist) : null);
    }

    /** The files {@link #load} reads for {@code file}, those that exist, in order (for cache keys). */
    public static List<Path> files(Path file) {
        List<Path> out = new ArrayList<>();
        out.add(file);
        for (String suffix : new String[] {".homedirs", ".local", ".subs_dist", ".subs"}) {
            Path p = file.resolveSibling(file.getFileName() + suffix);
            if (Files.isRegularFile(p)) {
                out.add(p);
            }
        }
        return out;
    }

    private static byte[] read(Path p) throws IOException {
        if (Files.size(p) > MAX_FILE_BYTES) {
            throw new FormatException("file contexts", p, "larger than " + MAX_FILE_BYTES + " bytes");
        }
        return Files.readAllBytes(p);
    }

    /**
     * Parses specification files (name → bytes: the base file first, then {@code .homedirs} and
     * {@code .local}) and the substitution files (null: absent).
     */
    public static FileContexts parse(Map<String, byte[]> files, byte[] subs, byte[] distSubs) throws FormatException {
        List<Spec> all = new ArrayList<>();
        boolean base = true;
        String first = null;
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            List<Spec> specs = parseSpecs(e.getKey(), e.getValue());
            if (base) {
                checkDuplicates(e.getKey(), specs);
                first = e.getKey();
                base = false;
            }
            all.addAll(specs);
        }
        // sort_specs(): regular expressions first, exact paths after them, each group in file order
        List<Spec> sorted = new ArrayList<>(all.size());
        all.stream().filter(Spec::hasMetaChars).forEach(sorted::add);
        all.stream().filter(s -> !s.hasMetaChars()).forEach(sorted::add);
        return new FileContexts(List.copyOf(sorted), parseSubs(subs), parseSubs(distSubs), first);
    }

    /** Number of specifications (all files). */
    public int size() {
        return specs.size();
    }

    @Override
    public String toString() {
        return description + " (" + specs.size() + " specifications)";
    }

    /**
     * The context setfiles gives {@code path} (absolute, in the tree being labelled) of file type
     * {@code type} ({@code st_mode & S_IFMT}; 0 matches any specification), or null when the entry
     * stays unlabelled ({@code <<none>>} or no matching specification).
     */
    public String lookup(String path, int type) {
        String key = normalise(new String(path.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty path");
        }
        String sub = substitute(subs, key);
        String d = distSubs.isEmpty() ? null : substitute(distSubs, sub != null ? sub : key);
        if (d != null) {
            key = d;
        } else if (sub != null) {
            key = sub;
        }
        String stem = stemOfPath(key);
        int mode = type & 0170000;
        List<int[]> lists = new ArrayList<>();
        for (int j = key.indexOf('/'); j >= 0; j = key.indexOf('/', j + 1)) {
            int[] l = byDirectory.get(key.substring(0, j));
            if (l != null) {
                lists.add(l);
            }
        }
        if (key.indexOf('/') != 0 && byDirectory.containsKey("")) {
            lists.add(byDirectory.get("")); // not absolute: only prefixes without a directory can match
        }
        int[] at = new int[lists.size()];
        for (int k = 0; k < at.length; k++) {
            at[k] = lists.get(k).length - 1;
        }
        while (true) {
            // the ascending lists merged, walked from the end: the last specification first
            int best = -1;
            for (int k = 0; k < at.length; k++) {
                if (at[k] >= 0 && (best < 0 || lists.get(k)[at[k]] > lists.get(best)[at[best]])) {
                    best = k;
                }
            }
            if (best < 0) {
                break;
            }
            int i = lists.get(best)[at[best]--];
            Spec s = specs.get(i);
            if (s.stem() != null && !s.stem().equals(stem)) {
                continue;
            }
            if (mode != 0 && s.mode() != 0 && s.mode() != mode) {
                continue;
            }
            if (!key.startsWith(s.prefix())) {
                continue;
            }
            Matcher m = s.pattern().matcher(key);
            if (m.find()) {
                return s.context().equals(NONE) ? null : s.context();
            }
        }
        return null;
    }

    /**
     * Labels every entry of a SquashFS image: {@code security.selinux} = context + NUL (as setfiles
     * writes it), replacing the source's label; an entry without a context keeps what it has, as
     * setfiles leaves it. Counts go to {@code labelled} and {@code unlabelled}.
     */
    public EntryAttributes labeller(AtomicLong labelled, AtomicLong unlabelled) {
        return (path, type, meta, digest) -> label(path, type, meta, labelled, unlabelled);
    }

    private SortedMap<String, byte[]> label(String path, int type, EntryMetadata meta, AtomicLong labelled, AtomicLong unlabelled) {
        String ctx = lookup(path, type);
        if (ctx == null) {
            unlabelled.incrementAndGet();
            return meta.xattrs();
        }
        labelled.incrementAndGet();
        byte[] c = ctx.getBytes(StandardCharsets.ISO_8859_1);
        byte[] v = java.util.Arrays.copyOf(c, c.length + 1);
        SortedMap<String, byte[]> x = new TreeMap<>(meta.xattrs());
        x.put("security.selinux", v);
        return x;
    }

    // ---------------------------------------------------------------- parsing

    private static List<Spec> parseSpecs(String file, byte[] bytes) throws FormatException {
        List<Spec> out = new ArrayList<>();
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int lineNo = 0;
        int at = 0;
        while (at < text.length()) {
            int nl = text.indexOf('\n', at);
            String line = nl < 0 ? text.substring(at) : text.substring(at, nl);
            at = nl < 0 ? text.length() : nl + 1;
            lineNo++;
            List<String> fields = fields(file, lineNo, line);
            if (fields.isEmpty()) {
                continue;
            }
            if (fields.size() < 2) {
                throw new FormatException("file contexts", file + ":" + lineNo, "line is missing fields");
            }
            String regex = fields.get(0);
            String type = fields.size() == 3 ? fields.get(1) : null;
            String context = fields.get(fields.size() == 3 ? 2 : 1);
            int mode = type == null ? 0 : mode(file, lineNo, type);
            if (!context.equals(NONE) && context.indexOf(':') < 0) {
                throw new FormatException("file contexts", file + ":" + lineNo, "'" + context + "' is not a security context");
            }
            Pattern p;
            try {
                p = Pattern.compile("^" + PcreTranslation.toJava(regex) + "$", Pattern.DOTALL | Pattern.UNIX_LINES);
            } catch (IllegalArgumentException e) {
                throw new FormatException("file contexts", file + ":" + lineNo, "invalid regex " + regex + ": " + e.getMessage());
            }
            out.add(new Spec(regex, mode, context, p, stemOfSpec(regex), literalPrefix(regex), hasMetaChars(regex), file, lineNo));
        }
        return out;
    }

    /** read_spec_entries(): up to three whitespace-separated ASCII fields; comment and blank lines have none. */
    private static List<String> fields(String file, int lineNo, String line) throws FormatException {
        List<String> f = new ArrayList<>(3);
        int i = 0;
        int n = line.length();
        while (i < n && isSpace(line.charAt(i))) {
            i++;
        }
        if (i == n || line.charAt(i) == '#') {
            return f;
        }
        while (f.size() < 3) {
            while (i < n && isSpace(line.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isSpace(line.charAt(i))) {
                if (line.charAt(i) > 0x7f) {
                    throw new FormatException("file contexts", file + ":" + lineNo, "non-ASCII characters found");
                }
                i++;
            }
            if (i == start) {
                break;
            }
            f.add(line.substring(start, i));
        }
        return f;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r';
    }

    /** string_to_mode(). */
    private static int mode(String file, int lineNo, String type) throws FormatException {
        if (type.length() == 2 && type.charAt(0) == '-') {
            switch (type.charAt(1)) {
                case 'b':
                    return EntryAttributes.S_IFBLK;
                case 'c':
                    return EntryAttributes.S_IFCHR;
                case 'd':
                    return EntryAttributes.S_IFDIR;
                case 'p':
                    return EntryAttributes.S_IFIFO;
                case 'l':
                    return EntryAttributes.S_IFLNK;
                case 's':
                    return EntryAttributes.S_IFSOCK;
                case '-':
                    return EntryAttributes.S_IFREG;
                default:
                    break;
            }
        }
        throw new FormatException("file contexts", file + ":" + lineNo, "invalid file type " + type);
    }

    /** nodups_specs(): the same regex twice with overlapping types is an error (setfiles validates). */
    private static void checkDuplicates(String file, List<Spec> specs) throws FormatException {
        Map<String, List<Spec>> byRegex = new HashMap<>();
        for (Spec s : specs) {
            List<Spec> same = byRegex.computeIfAbsent(s.regex(), k -> new ArrayList<>());
            for (Spec o : same) {
                if (o.mode() == 0 || s.mode() == 0 || o.mode() == s.mode()) {
                    throw new FormatException("file contexts", file + ":" + s.line(), o.context().equals(s.context())
                            ? "multiple same specifications for " + s.regex() + " (line " + o.line() + ")"
                            : "multiple different specifications for " + s.regex() + " (" + o.context() + " on line " + o.line()
                                    + " and " + s.context() + ")");
                }
            }
            same.add(s);
        }
    }

    /** spec_hasMetaChars(). */
    static boolean hasMetaChars(String regex) {
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (".^$?*+|[({".indexOf(c) >= 0) {
                return true;
            }
            if (c == '\\') {
                i++;
            }
        }
        return false;
    }

    /** get_stem_from_spec(): the first path component when it is literal, else null. */
    static String stemOfSpec(String regex) {
        int slash = regex.indexOf('/', 1);
        if (regex.isEmpty() || slash < 0) {
            return null;
        }
        for (int i = 0; i < slash; i++) {
            if (".^$?*+|[({".indexOf(regex.charAt(i)) >= 0) {
                return null;
            }
        }
        return regex.substring(0, slash);
    }

    /** get_stem_from_file_name(). */
    static String stemOfPath(String key) {
        int slash = key.indexOf('/', 1);
        return slash < 0 ? null : key.substring(0, slash);
    }

    /**
     * Text every match must start with (a pure shortcut before the regex): the literal characters
     * before the first meta character or backslash, less the last one when a quantifier that
     * allows zero follows; nothing when the regex has an alternation.
     */
    static String literalPrefix(String regex) {
        if (regex.indexOf('|') >= 0) {
            return "";
        }
        int i = 0;
        while (i < regex.length() && ".^$?*+|[({\\".indexOf(regex.charAt(i)) < 0) {
            i++;
        }
        if (i < regex.length() && "?*{".indexOf(regex.charAt(i)) >= 0 && i > 0) {
            i--;
        }
        return regex.substring(0, i);
    }

    private static String normalise(String key) {
        String k = key;
        while (k.contains("//")) {
            k = k.replace("//", "/");
        }
        if (k.length() > 1 && k.endsWith("/")) {
            k = k.substring(0, k.length() - 1);
        }
        return k;
    }

    /** selabel_sub(): the first substitution (list order) whose SRC is the path or a directory prefix of it. */
    private static String substitute(List<Sub> list, String src) {
        for (Sub s : list) {
            int len = s.src().length();
            if (src.startsWith(s.src()) && (src.length() == len || src.charAt(len) == '/')) {
                int skip = src.length() > len && s.dst().equals("/") ? len + 1 : len;
                return s.dst() + src.substring(skip);
            }
        }
        return null;
    }

    /** selabel_subs_init(): "SRC DST" lines, '#' comments; the list is built by prepending, so later lines come first. */
    private static List<Sub> parseSubs(byte[] bytes) {
        List<Sub> out = new ArrayList<>();
        if (bytes == null) {
            return out;
        }
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        for (String line : text.split("\n", -1)) {
            int i = 0;
            int n = line.length();
            while (i < n && isSpace(line.charAt(i))) {
                i++;
            }
            if (i < n && line.charAt(i) == '#') {
                continue;
            }
            int s = i;
            while (i < n && !isSpace(line.charAt(i))) {
                i++;
            }
            String src = line.substring(s, i);
            if (src.isEmpty()) {
                continue;
            }
            while (i < n && isSpace(line.charAt(i))) {
                i++;
            }
            int d = i;
            while (i < n && !isSpace(line.charAt(i))) {
                i++;
            }
            String dst = line.substring(d, i);
            if (dst.isEmpty()) {
                continue;
            }
            out.add(0, new Sub(src, dst));
        }
        return List.copyOf(out);
    }
}
