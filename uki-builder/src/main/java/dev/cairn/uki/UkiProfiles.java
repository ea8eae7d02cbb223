package dev.cairn.uki;

import dev.cairn.io.FormatException;
import dev.cairn.uki.pe.SectionHeader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Multi-profile UKIs (UAPI "Unified Kernel Image", Multi-Profile UKIs; systemd 257): sections before the first
 * {@code .profile} are the base; each {@code .profile} starts profile @0, @1, …; the stub uses the selected
 * profile's sections and the base sections the profile does not override (systemd {@code find_sections}: base
 * first, then the profile's; a missing @0 is tolerated).
 */
public final class UkiProfiles {
    /** The sections ukify 257 copies from a {@code --join-profile} PE (ukify {@code make_uki}, {@code to_import}). */
    public static final List<String> JOINABLE = List.of(".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname",
            ".sbat", ".profile");
    /** Profiles a stub accepts ({@code @N}, N an unsigned int); far more than any image has. */
    public static final int MAX_PROFILES = 1024;

    private UkiProfiles() {
    }

    /** One profile: its number, its {@code .profile} text and the file-order indices of its own sections. */
    public record Profile(int number, String text, List<Integer> sections) {
        public Profile {
            sections = List.copyOf(sections);
        }

        /** The {@code ID=} of the profile text, if any. */
        public Optional<String> id() {
            return field(text, "ID");
        }

        public Optional<String> title() {
            return field(text, "TITLE");
        }
    }

    /** A value of an env-block text ({@code KEY=value} lines, optional quotes), as os-release. */
    public static Optional<String> field(String text, String key) {
        for (String line : text.replace("\0", "").split("\n")) {
            String l = line.strip();
            if (l.startsWith(key + "=")) {
                String v = l.substring(key.length() + 1);
                if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                    v = v.substring(1, v.length() - 1);
                }
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    /** Number of {@code .profile} sections (0: a single-profile UKI). */
    public static int count(List<String> names) {
        return (int) names.stream().filter(".profile"::equals).count();
    }

    /**
     * File-order indices of the sections the stub uses for profile {@code n}: the profile's own sections (first of
     * each name), then the base sections it does not override. A UKI without {@code .profile} has only @0 = the
     * base.
     *
     * @throws IllegalArgumentException when the UKI has no profile {@code n}
     */
    public static List<Integer> select(List<String> names, int n) {
        int profiles = count(names);
        if (n < 0 || n > 0 && n >= profiles) {
            throw new IllegalArgumentException("no profile @" + n + ": the UKI has " + (profiles == 0 ? "no .profile sections (only @0)"
                    : profiles + " profile" + (profiles == 1 ? "" : "s") + " (@0…@" + (profiles - 1) + ")"));
        }
        List<Integer> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int current = -1;
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).equals(".profile")) {
                current++;
            }
            if (current == n && seen.add(names.get(i))) {
                out.add(i);
            }
        }
        for (int i = 0; i < names.size() && !names.get(i).equals(".profile"); i++) {
            if (seen.add(names.get(i))) {
                out.add(i);
            }
        }
        return out;
    }

    /** The profiles of an image (empty for a single-profile UKI). */
    public static List<Profile> profiles(UkiFile f) throws IOException {
        List<SectionHeader> s = f.image().sections();
        List<Profile> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++) {
            if (!s.get(i).name().equals(".profile")) {
                continue;
            }
            if (out.size() >= MAX_PROFILES) {
                throw new FormatException("section .profile", out.size(), "more than " + MAX_PROFILES + " profiles");
            }
            List<Integer> own = new ArrayList<>();
            own.add(i);
            for (int j = i + 1; j < s.size() && !s.get(j).name().equals(".profile"); j++) {
                own.add(j);
            }
            byte[] text = f.content(s.get(i)).toBytes(1 << 20);
            out.add(new Profile(out.size(), new String(text, StandardCharsets.UTF_8).replace("\0", ""), own));
        }
        return out;
    }

    /**
     * The sections ukify 257 copies from a profile PE for {@code --join-profile}: those in {@link #JOINABLE}
     * ({@code .osrel} only when the base UKI has one), in the PE's order, each min(VirtualSize, SizeOfRawData)
     * bytes. As ukify, refuses a PE whose first such section is not {@code .profile} (e.g. one built on the linux
     * stub, whose {@code .sbat} comes first) or that has more than one {@code .profile}.
     */
    public static List<UkiLayout.NewSection> fromProfilePe(Path pe, boolean baseHasOsrel) throws IOException {
        UkiFile f = UkiFile.open(pe);
        List<UkiLayout.NewSection> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (SectionHeader h : f.image().sections()) {
            String n = h.name();
            if (!JOINABLE.contains(n) || n.equals(".osrel") && !baseHasOsrel) {
                skipped.add(n);
                continue;
            }
            if (out.isEmpty() && !n.equals(".profile")) {
                throw new FormatException("--join-profile " + pe, n, "expected .profile as the first section to copy, found " + n
                        + " (a profile PE is built on the add-on stub: cairn uki build --profile … without --linux)");
            }
            if (n.equals(".profile") && !out.isEmpty()) {
                throw new FormatException("--join-profile " + pe, null, "has more than one .profile section");
            }
            long len = Math.min(h.virtualSize(), h.sizeOfRawData());
            if (len == 0) {
                throw new FormatException("--join-profile " + pe + " section " + n, 0, "is empty");
            }
            out.add(new UkiLayout.NewSection(n, new SectionData(List.of(new SectionData.FileSlice(pe, h.pointerToRawData(), len)))));
        }
        if (out.isEmpty()) {
            throw new FormatException("--join-profile " + pe, null, "has no .profile section (sections: " + String.join(" ", skipped) + ")");
        }
        return out;
    }
}
