package dev.cairn.oci;

import java.util.regex.Pattern;

/**
 * {@code host[:port]/repository[:tag][@sha256:hex]} (distribution-spec names). The registry host is
 * required — cairn does not guess docker.io — and every part is checked with a message naming it.
 */
public record RegistryReference(String registry, String repository, String tag, Digest digest) {
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final Pattern HOST = Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?");

    public RegistryReference {
        if (tag == null && digest == null) {
            throw new IllegalArgumentException("a reference needs a tag or a digest");
        }
    }

    public static RegistryReference parse(String s) {
        if (s == null || s.isEmpty()) {
            throw new IllegalArgumentException("empty registry reference");
        }
        if (s.contains("://")) {
            throw new IllegalArgumentException("'" + s + "': give HOST/REPOSITORY:TAG without a URL scheme");
        }
        int slash = s.indexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("'" + s + "': expected HOST[:PORT]/REPOSITORY[:TAG][@DIGEST] (the registry host is required)");
        }
        String host = s.substring(0, slash);
        if (!HOST.matcher(host).matches() || !(host.contains(".") || host.contains(":") || host.equals("localhost"))) {
            throw new IllegalArgumentException("'" + s + "': '" + host + "' is not a registry host (needs a '.', a port, or localhost)");
        }
        String rest = s.substring(slash + 1);
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Digest.parse("digest", rest.substring(at + 1));
            } catch (dev.cairn.io.FormatException e) {
                throw new IllegalArgumentException("'" + s + "': " + e.getMessage());
            }
            rest = rest.substring(0, at);
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw new IllegalArgumentException("'" + s + "': invalid tag '" + tag + "'");
            }
        }
        if (rest.isEmpty() || rest.length() > 255) {
            throw new IllegalArgumentException("'" + s + "': repository name must be 1 to 255 characters");
        }
        for (String c : rest.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                throw new IllegalArgumentException("'" + s + "': invalid repository component '" + c
                        + "' (lowercase letters, digits, separated by '.', '_', '__' or '-')");
            }
        }
        if (tag == null && digest == null) {
            throw new IllegalArgumentException("'" + s + "' names no tag or digest: use HOST/REPOSITORY:TAG");
        }
        return new RegistryReference(host, rest, tag, digest);
    }

    /** The tag or digest the manifest endpoint takes (the digest when both are given). */
    public String reference() {
        return digest != null ? digest.toString() : tag;
    }

    public RegistryReference withReference(String tagOrDigest) {
        return tagOrDigest.contains(":") ? new RegistryReference(registry, repository, null, Digest.of(tagOrDigest))
                : new RegistryReference(registry, repository, tagOrDigest, null);
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
