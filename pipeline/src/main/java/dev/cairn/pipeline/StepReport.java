package dev.cairn.pipeline;

import java.util.List;

/**
 * How one step of a build went with the step cache.
 *
 * @param step        the step's name ({@code rootfs}, {@code initramfs}, {@code uki}, ...)
 * @param cache       hit, miss, or why the cache was not asked
 * @param source      where a hit came from: {@code local} (OUT/.cairn-cache) or the registry
 *                    repository; null otherwise
 * @param key         the step key (hex SHA-256 of its key material); null for steps never cached
 * @param keyMaterial what the key is made of, one {@code label=value} line each (long values as
 *                    their SHA-256): content digests, step version, parameters; never paths,
 *                    times or private key material
 * @param notes       what the step did that the user should see, one line each (the rootfs step:
 *                    entries each overlay added, what each clean-up removed or emptied)
 */
public record StepReport(String step, Cache cache, String source, String key, List<String> keyMaterial, List<String> notes) {
    public StepReport {
        keyMaterial = keyMaterial == null ? List.of() : List.copyOf(keyMaterial);
        notes = notes == null ? List.of() : List.copyOf(notes);
    }

    /** A report without notes. */
    public StepReport(String step, Cache cache, String source, String key, List<String> keyMaterial) {
        this(step, cache, source, key, keyMaterial, List.of());
    }

    /** This report with {@code line} added to its notes. */
    public StepReport withNote(String line) {
        List<String> n = new java.util.ArrayList<>(notes);
        n.add(line);
        return new StepReport(step, cache, source, key, keyMaterial, n);
    }

    /** A step's relation to the cache. */
    public enum Cache {
        /** Its outputs came from the cache. */
        HIT,
        /** Built, and stored in the cache. */
        MISS,
        /** Built: {@code --force} ignored the cache. */
        FORCED,
        /** Never cached: it signs, or is cheaper than a look-up. */
        NOT_CACHEABLE;

        /** Lower-case name for JSON and text output. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }
}
