package dev.cairn.pipeline.sysext;

import dev.cairn.disk.DpsType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The extension-release file of a system or configuration extension image (UAPI.4 "Extension
 * Images", os-release(5), ddi-sysext.md §4), and the naming rules that make systemd find it.
 *
 * <p>systemd looks for {@code extension-release.<IMAGE>} where {@code <IMAGE>} is the image's file
 * name without its suffix. systemd 252 strips suffixes in two places and two ways: image discovery
 * ({@code systemd-sysext list}/{@code merge}) drops a trailing {@code .raw}; dissection
 * ({@code systemd-dissect}, the metadata sysext reads) drops {@code .xz .gz .bz2 .raw .qcow2 .img
 * .bin} repeatedly ({@code raw_strip_suffixes}); 256 and later also {@code .zst},
 * {@code .sysext.raw} and {@code .confext.raw}. The only name every version agrees on is
 * {@code NAME.raw} where NAME itself ends in none of those suffixes, nor in {@code .sysext} or
 * {@code .confext}; {@link #checkName} enforces that.
 *
 * @param kind         system extension ({@code /usr}, {@code /opt}) or configuration extension ({@code /etc})
 * @param name         the image name (see {@link #checkName})
 * @param id           {@code ID=}: the host's os-release ID, or {@code _any}
 * @param versionId    {@code VERSION_ID=}, or null
 * @param level        {@code SYSEXT_LEVEL=} ({@code CONFEXT_LEVEL=} for a confext), or null
 * @param architecture {@code ARCHITECTURE=}, or null for none
 */
public record ExtensionRelease(Kind kind, String name, String id, String versionId, String level, Architecture architecture) {
    /**
     * os-release(5) for ID, VERSION_ID and SYSEXT_LEVEL: "a lower-case string … no spaces or other
     * characters outside of 0–9, a–z, '.', '_' and '-'".
     */
    static final Pattern FIELD = Pattern.compile("[a-z0-9._-]+");
    /** Image names cairn accepts: portable file-name characters, no leading dot (hidden files are skipped). */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");
    /** What systemd strips from image file names (252's list, and what 256+ adds), each making NAME.raw ambiguous. */
    static final List<String> STRIPPED_SUFFIXES = List.of(".xz", ".gz", ".bz2", ".zst", ".raw", ".qcow2", ".img", ".bin",
            ".sysext", ".confext");
    /** A file name is at most 255 bytes; {@code extension-release.} takes 18 of them. */
    static final int MAX_NAME_BYTES = 255 - "extension-release.".length();
    /** The only suffix of an extension image file cairn writes. */
    public static final String SUFFIX = ".raw";

    /** Which kind of extension: where its release file lives and which trees systemd merges from it. */
    public enum Kind {
        /** systemd-sysext: merged over {@code /usr} and {@code /opt}. */
        SYSEXT("usr/lib/extension-release.d", "SYSEXT_LEVEL", Set.of("usr", "opt")),
        /** systemd-confext (systemd 254+): merged over {@code /etc}. */
        CONFEXT("etc/extension-release.d", "CONFEXT_LEVEL", Set.of("etc"));

        private final String directory;
        private final String levelKey;
        private final Set<String> merged;

        Kind(String directory, String levelKey, Set<String> merged) {
            this.directory = directory;
            this.levelKey = levelKey;
            this.merged = merged;
        }

        /** The release file's directory inside the image, without a leading slash. */
        public String directory() {
            return directory;
        }

        /** {@code SYSEXT_LEVEL} or {@code CONFEXT_LEVEL}. */
        public String levelKey() {
            return levelKey;
        }

        /** The top-level directories systemd merges from this kind of image. */
        public Set<String> mergedDirectories() {
            return merged;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** {@code ARCHITECTURE=} values cairn writes: systemd's names, or {@code _any}. */
    public enum Architecture {
        X86_64("x86-64", DpsType.Arch.X86_64), ARM64("arm64", DpsType.Arch.ARM64), ANY("_any", null);

        private final String value;
        private final DpsType.Arch dps;

        Architecture(String value, DpsType.Arch dps) {
            this.value = value;
            this.dps = dps;
        }

        /** As written after {@code ARCHITECTURE=} (and as uname's machine is named by systemd). */
        public String value() {
            return value;
        }

        /** The DPS partition-type architecture, empty for {@code _any}. */
        public Optional<DpsType.Arch> dps() {
            return Optional.ofNullable(dps);
        }

        /** By its written value ({@code x86-64}, {@code arm64}, {@code _any}). */
        public static Architecture of(String value) {
            for (Architecture a : values()) {
                if (a.value.equals(value)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("architecture must be x86-64, arm64 or _any, not '" + value + "'");
        }
    }

    public ExtensionRelease {
        Objects.requireNonNull(kind, "kind");
        checkName(name);
        if (id == null) {
            throw new IllegalArgumentException("an extension-release file needs ID= (the host's os-release ID, or _any)");
        }
        checkField("ID", id);
        if (versionId != null) {
            checkField("VERSION_ID", versionId);
        }
        if (level != null) {
            checkField(kind.levelKey(), level);
        }
        if (versionId == null && level == null && !id.equals("_any")) {
            throw new IllegalArgumentException("an extension for ID=" + id + " needs VERSION_ID= or " + kind.levelKey()
                    + "= (systemd compares one of them with the host's os-release)");
        }
    }

    /**
     * Checks an image name: 1 to 237 bytes of {@code [A-Za-z0-9._+-]}, starting with a letter or
     * digit, not ending in a suffix some systemd version strips from image file names.
     *
     * @throws IllegalArgumentException naming the rule broken
     */
    public static String checkName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("the extension needs a name");
        }
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("extension name '" + name + "' must be letters, digits, '.', '_', '+' and '-',"
                    + " starting with a letter or digit");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("extension name is " + name.length() + " bytes; at most " + MAX_NAME_BYTES
                    + " fit in extension-release.NAME");
        }
        for (String s : STRIPPED_SUFFIXES) {
            if (name.endsWith(s)) {
                throw new IllegalArgumentException("extension name '" + name + "' ends in '" + s + "', which systemd strips from"
                        + " image file names (252 strips .xz .gz .bz2 .raw .qcow2 .img .bin, 256+ also .zst .sysext.raw"
                        + " .confext.raw): the image would be looked up under another name");
            }
        }
        return name;
    }

    private static void checkField(String key, String value) {
        if (!FIELD.matcher(value).matches()) {
            throw new IllegalArgumentException(key + "=" + value + ": os-release(5) allows only 0-9, a-z, '.', '_' and '-'"
                    + (key.equals("ID") ? " (or _any)" : ""));
        }
    }

    /** The image file name systemd derives {@link #name} from: {@code NAME.raw}. */
    public String fileName() {
        return name + SUFFIX;
    }

    /** Where the file lives in the image (a root partition or a naked file system), without a leading slash. */
    public String path() {
        return kind.directory() + "/extension-release." + name;
    }

    /**
     * The file's content: {@code ID=}, then {@code VERSION_ID=}, {@code SYSEXT_LEVEL=} (or
     * {@code CONFEXT_LEVEL=}) and {@code ARCHITECTURE=} when given, one per line, each line ending in
     * a newline. Values need no quoting (only os-release's safe characters are allowed).
     */
    public String content() {
        StringBuilder sb = new StringBuilder();
        sb.append("ID=").append(id).append('\n');
        if (versionId != null) {
            sb.append("VERSION_ID=").append(versionId).append('\n');
        }
        if (level != null) {
            sb.append(kind.levelKey()).append('=').append(level).append('\n');
        }
        if (architecture != null) {
            sb.append("ARCHITECTURE=").append(architecture.value()).append('\n');
        }
        return sb.toString();
    }

    /** {@link #content} as UTF-8 (it is ASCII). */
    public byte[] bytes() {
        return content().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks that {@code file}'s name is {@code NAME.raw}: systemd names the image after its file,
     * and an image whose file name does not give NAME is not recognised as this extension.
     *
     * @throws IllegalArgumentException naming the expected file name
     */
    public static void checkFileName(java.nio.file.Path file, String name) {
        java.nio.file.Path f = file.getFileName();
        String fn = f == null ? "" : f.toString();
        if (!fn.endsWith(SUFFIX)) {
            throw new IllegalArgumentException(file + ": an extension image's file name must end in .raw (systemd only"
                    + " picks up *.raw files); write it as " + name + SUFFIX);
        }
        String stem = fn.substring(0, fn.length() - SUFFIX.length());
        if (!stem.equals(name)) {
            throw new IllegalArgumentException(file + ": systemd 252 names this image '" + stem + "' (the file name without .raw),"
                    + " so it would look for extension-release." + stem + "; name the file " + name + SUFFIX);
        }
    }
}
