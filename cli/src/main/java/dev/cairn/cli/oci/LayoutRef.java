package dev.cairn.cli.oci;

import dev.cairn.oci.OciLayout;
import java.nio.file.Path;

/**
 * {@code <layout>[:<tag>]} as the commands take it (like skopeo's {@code oci:dir:tag} without the
 * transport). The tag is what follows the last ':' when that part has no '/'.
 */
record LayoutRef(Path layout, String tag) {
    static LayoutRef parse(String s, boolean tagRequired) {
        if (s == null || s.isEmpty()) {
            throw new IllegalArgumentException("empty layout reference (expected DIR:TAG)");
        }
        java.util.regex.Matcher byDigest = java.util.regex.Pattern.compile("(.+):(sha256:[0-9a-f]{64})").matcher(s);
        if (byDigest.matches()) {
            return new LayoutRef(Path.of(byDigest.group(1)), byDigest.group(2));
        }
        int colon = s.lastIndexOf(':');
        String dir = s;
        String tag = null;
        if (colon >= 0 && s.indexOf('/', colon) < 0) {
            dir = s.substring(0, colon);
            tag = s.substring(colon + 1);
            if (dir.isEmpty()) {
                throw new IllegalArgumentException("'" + s + "': no layout directory before ':'");
            }
            if (!OciLayout.isValidTag(tag)) {
                throw new IllegalArgumentException("'" + s + "': invalid tag '" + tag
                        + "' (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')");
            }
        }
        if (tagRequired && tag == null) {
            throw new IllegalArgumentException("'" + s + "' names no tag: use LAYOUT:TAG");
        }
        return new LayoutRef(Path.of(dir), tag);
    }

    @Override
    public String toString() {
        return tag == null ? layout.toString() : layout + ":" + tag;
    }
}
