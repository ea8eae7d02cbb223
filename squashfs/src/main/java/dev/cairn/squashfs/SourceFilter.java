package dev.cairn.squashfs;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * What a tree source keeps and how it rewrites ownership on the way in (mksquashfs {@code -e},
 * {@code -all-root}, {@code -force-uid}, {@code -force-gid}, {@code -xattrs-include},
 * {@code -xattrs-exclude}).
 *
 * @param excludes      glob patterns matched against the path relative to the source root
 *                      ({@code usr/share/doc}, {@code **}{@code /*.pyc}); a matching directory is skipped whole
 * @param forceUid      when non-null, every entry's uid
 * @param forceGid      when non-null, every entry's gid
 * @param xattrsInclude when non-null, a POSIX extended regular expression: only extended attributes
 *                      whose full name ({@code security.capability}) it matches somewhere are read
 * @param xattrsExclude when non-null, a POSIX extended regular expression: extended attributes whose
 *                      full name it matches somewhere are left out (checked before the include)
 */
public record SourceFilter(List<String> excludes, Long forceUid, Long forceGid, String xattrsInclude, String xattrsExclude) {
    public SourceFilter {
        excludes = List.copyOf(excludes == null ? List.of() : excludes);
        for (Long id : new Long[] {forceUid, forceGid}) {
            if (id != null && (id < 0 || id > 0xFFFF_FFFFL)) {
                throw new IllegalArgumentException("uid/gid out of range: " + id);
            }
        }
        // refuse a bad regex now, not in the middle of a build
        new XattrSelection(xattrsInclude, xattrsExclude);
    }

    public SourceFilter(List<String> excludes, Long forceUid, Long forceGid) {
        this(excludes, forceUid, forceGid, null, null);
    }

    /** This filter, keeping only the extended attributes the regexes select (mksquashfs -xattrs-include/-exclude). */
    public SourceFilter withXattrs(String includeRegex, String excludeRegex) {
        return new SourceFilter(excludes, forceUid, forceGid, includeRegex, excludeRegex);
    }

    /** A fresh selection (with its own counts of what was left out) for one pass over a source. */
    XattrSelection xattrSelection() {
        return new XattrSelection(xattrsInclude, xattrsExclude);
    }

    public static SourceFilter none() {
        return new SourceFilter(List.of(), null, null);
    }

    /** Compiles the exclude patterns once. */
    Matcher matcher() {
        List<PathMatcher> ms = excludes.stream()
                .map(p -> FileSystems.getDefault().getPathMatcher("glob:" + stripSlashes(p)))
                .toList();
        return rel -> {
            if (rel.isEmpty()) {
                return false;
            }
            Path p = Path.of(rel);
            for (PathMatcher m : ms) {
                if (m.matches(p)) {
                    return true;
                }
            }
            return false;
        };
    }

    EntryMetadata apply(EntryMetadata m) {
        if (forceUid == null && forceGid == null) {
            return m;
        }
        return m.withOwner(forceUid != null ? forceUid : m.uid(), forceGid != null ? forceGid : m.gid());
    }

    private static String stripSlashes(String p) {
        String s = p;
        while (s.startsWith("/") || s.startsWith("./")) {
            s = s.substring(s.startsWith("/") ? 1 : 2);
        }
        while (s.endsWith("/") && s.length() > 1) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.getBytes(StandardCharsets.UTF_8).length == 0) {
            throw new IllegalArgumentException("empty exclude pattern");
        }
        return s;
    }

    @FunctionalInterface
    interface Matcher {
        boolean excluded(String relativePath);
    }
}
