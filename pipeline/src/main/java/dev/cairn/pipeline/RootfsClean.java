package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.cairn.squashfs.EntryAttributes;
import dev.cairn.squashfs.EntryGate;
import dev.cairn.squashfs.SquashfsWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * {@code rootfs.clean}: state that must not be baked into an immutable image, left out of the
 * SquashFS whatever adds it (the source, an overlay or a pseudo definition), so that none of its
 * content is ever written. Each clean-up counts the paths it removed and emptied (a removed
 * directory counts once, with everything below it). docs/build-spec.md lists exactly what each
 * one matches.
 */
final class RootfsClean implements EntryGate {
    static final String MACHINE_ID = "etc/machine-id";
    private static final Pattern SSH_HOST_KEY = Pattern.compile("etc/ssh/ssh_host_[^/]*_key(\\.pub)?");
    /**
     * What apt-caches removes; the entries that go with everything below them also match their
     * descendants, for a tarball that has no entry of the directory itself.
     */
    private static final Pattern APT_CACHE = Pattern.compile("var/cache/apt/[^/]*\\.bin|var/cache/apt/archives/[^/]*\\.deb"
            + "|var/cache/apt/archives/partial/.+|var/lib/apt/lists/(?!(lock|partial)(/|$)).+|var/lib/apt/lists/partial/.+");

    private final Set<BuildSpec.Cleanup> on;
    private final Map<BuildSpec.Cleanup, Set<String>> removed = new EnumMap<>(BuildSpec.Cleanup.class);
    private final Map<BuildSpec.Cleanup, Set<String>> emptied = new EnumMap<>(BuildSpec.Cleanup.class);
    private final List<String> warnings = new ArrayList<>();

    RootfsClean(List<BuildSpec.Cleanup> cleanups) {
        this.on = cleanups.isEmpty() ? Set.of() : java.util.EnumSet.copyOf(cleanups);
        for (BuildSpec.Cleanup c : cleanups) {
            removed.put(c, new TreeSet<>());
            emptied.put(c, new TreeSet<>());
        }
    }

    @Override
    public Verdict check(String path, int type) {
        boolean dir = type == EntryAttributes.S_IFDIR;
        if (on.contains(BuildSpec.Cleanup.MACHINE_ID)) {
            if (path.equals(MACHINE_ID)) {
                if (type == EntryAttributes.S_IFREG) {
                    emptied.get(BuildSpec.Cleanup.MACHINE_ID).add(path);
                    return Verdict.EMPTY;
                }
                warnings.add("clean-up machine-id: /" + path + " is not a regular file, left as it is");
                return Verdict.ADD;
            }
            if (path.equals("var/lib/dbus/machine-id") && !dir) {
                return remove(BuildSpec.Cleanup.MACHINE_ID, path);
            }
        }
        if (on.contains(BuildSpec.Cleanup.SSH_HOST_KEYS) && !dir && SSH_HOST_KEY.matcher(path).matches()) {
            return remove(BuildSpec.Cleanup.SSH_HOST_KEYS, path);
        }
        if (on.contains(BuildSpec.Cleanup.LOGS) && type == EntryAttributes.S_IFREG && path.startsWith("var/log/")) {
            return remove(BuildSpec.Cleanup.LOGS, path);
        }
        if (on.contains(BuildSpec.Cleanup.APT_CACHES) && APT_CACHE.matcher(path).matches()
                && (type == EntryAttributes.S_IFREG || path.startsWith("var/lib/apt/lists/") || path.contains("/partial/"))) {
            return remove(BuildSpec.Cleanup.APT_CACHES, path);
        }
        if (on.contains(BuildSpec.Cleanup.RANDOM_SEED) && !dir && path.equals("var/lib/systemd/random-seed")) {
            return remove(BuildSpec.Cleanup.RANDOM_SEED, path);
        }
        if (on.contains(BuildSpec.Cleanup.LDCONFIG_AUX_CACHE) && !dir && path.equals("var/cache/ldconfig/aux-cache")) {
            return remove(BuildSpec.Cleanup.LDCONFIG_AUX_CACHE, path);
        }
        return Verdict.ADD;
    }

    private Verdict remove(BuildSpec.Cleanup c, String path) {
        removed.get(c).add(path);
        return Verdict.SKIP;
    }

    /** After pseudo definitions: an emptied machine-id is 0444, owned by root, whatever set it before. */
    void finish(SquashfsWriter w) {
        if (on.contains(BuildSpec.Cleanup.MACHINE_ID) && w.typeOf(MACHINE_ID) == EntryAttributes.S_IFREG) {
            w.modify(MACHINE_ID, 0444, 0, 0);
        }
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }

    /** {@code [{name, removed, emptied}]} in the spec's order. */
    void record(ArrayNode out, List<BuildSpec.Cleanup> order) {
        for (BuildSpec.Cleanup c : order) {
            var n = out.addObject();
            n.put("name", c.specName());
            n.put("removed", removed.get(c).size());
            n.put("emptied", emptied.get(c).size());
        }
    }
}
