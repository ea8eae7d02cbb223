package dev.cairn.uki;

import dev.cairn.uki.pe.SectionHeader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Predicts PCR 12 ("kernel-config") for a systemd 257 UKI booted with a profile and PE add-ons, as
 * systemd-boot and systemd-stub 257 measure them (systemd {@code src/boot/stub.c} {@code run()}), in this order:
 * <ol>
 * <li>booted through systemd-boot with profile @N, N &gt; 0: sd-boot's EV_IPL of its load options, UTF-16LE
 *     {@code "@N"} + NUL (digest over those bytes);</li>
 * <li>profile @N, N &gt; 0: the stub's EV_EVENT_TAG {@code 0x13aed6db} (UKI_PROFILE_EVENT_TAG_ID), digest over
 *     UTF-16LE {@code "N"} + NUL (@0 leaves no trace);</li>
 * <li>the {@code .cmdline} of every add-on, each mangled (control characters to spaces, outer whitespace
 *     dropped), joined by single spaces in load order, measured once as EV_IPL UTF-16LE + NUL;</li>
 * <li>each add-on {@code .dtb}: EV_EVENT_TAG {@code 0x6c46f751}, digest over the blob;</li>
 * <li>each add-on {@code .ucode}, in reverse load order: EV_EVENT_TAG {@code 0xdac08e1a};</li>
 * <li>each add-on {@code .initrd}: EV_EVENT_TAG {@code 0x49dffe0f}, digest over the blob.</li>
 * </ol>
 * An add-on whose {@code .uname} differs from the UKI's is ignored by the stub, and so here (with a note). Not
 * predicted (they depend on the ESP or the firmware, not the images): a custom command line (dropped under
 * Secure Boot when the UKI has {@code .cmdline}), credentials, confexts, SMBIOS command lines.
 */
public final class Pcr12Predictor {
    public static final int EV_EVENT_TAG = 0x6;
    public static final int EV_IPL = 0xD;
    public static final int UKI_PROFILE_EVENT_TAG_ID = 0x13aed6db;
    public static final int DEVICETREE_ADDON_EVENT_TAG_ID = 0x6c46f751;
    public static final int INITRD_ADDON_EVENT_TAG_ID = 0x49dffe0f;
    public static final int UCODE_ADDON_EVENT_TAG_ID = 0xdac08e1a;

    private Pcr12Predictor() {
    }

    /** An add-on as the stub finds it: its file name on the ESP (logged in tagged events) and the image. */
    public record Addon(String fileName, UkiFile file) {
    }

    /**
     * One PCR 12 event: type, tag (tagged events; 0 otherwise), a description, the event data as logged, and the
     * digest per bank.
     */
    public record Event(int type, int tag, String description, byte[] eventData, Map<PcrPredictor.Bank, byte[]> digests) {
        public Event {
            eventData = eventData.clone();
            digests = Map.copyOf(digests);
        }

        @Override
        public byte[] eventData() {
            return eventData.clone();
        }
    }

    /** The events and what was left out on the way. */
    public record Result(List<Event> events, List<String> notes) {
        public Result {
            events = List.copyOf(events);
            notes = List.copyOf(notes);
        }

        /** PCR 12 after the events, from zero. */
        public byte[] replay(PcrPredictor.Bank bank) {
            MessageDigest md = bank.newDigest();
            byte[] pcr = new byte[md.getDigestLength()];
            for (Event e : events) {
                md.update(pcr);
                md.update(e.digests().get(bank));
                pcr = md.digest();
            }
            return pcr;
        }
    }

    /**
     * @param uki            the UKI (for its {@code .uname} and profile count)
     * @param profile        the profile booted ({@code @N})
     * @param viaSystemdBoot whether systemd-boot started the UKI (it measures {@code "@N"} itself)
     * @param addons         add-ons in load order (global ones sorted by name, then the UKI's {@code .extra.d} ones)
     */
    public static Result predict(UkiFile uki, int profile, boolean viaSystemdBoot, List<Addon> addons, List<PcrPredictor.Bank> banks)
            throws IOException {
        List<String> names = uki.image().sections().stream().map(SectionHeader::name).toList();
        UkiProfiles.select(names, profile); // the profile must exist
        List<Event> events = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (profile > 0 && viaSystemdBoot) {
            byte[] opts = utf16z("@" + profile);
            events.add(new Event(EV_IPL, 0, "systemd-boot load options @" + profile, opts, digests(SectionData.of(opts), banks)));
        }
        if (profile > 0) {
            byte[] s = utf16z(Integer.toString(profile));
            events.add(new Event(EV_EVENT_TAG, UKI_PROFILE_EVENT_TAG_ID, "UKI profile " + profile, tagged(UKI_PROFILE_EVENT_TAG_ID, s),
                    digests(SectionData.of(s), banks)));
        }
        Optional<String> ukiUname = textOf(uki, names, profile, ".uname");
        List<Addon> used = new ArrayList<>();
        for (Addon a : addons) {
            PeSections s = new PeSections(a.file());
            if (s.has(".linux")) {
                notes.add(a.fileName() + ": has a .linux section — systemd-stub ignores it (\"is a UKI, not an addon\")");
                continue;
            }
            if (!s.has(".cmdline") && !s.has(".dtb") && !s.has(".dtbauto") && !s.has(".initrd") && !s.has(".ucode")) {
                notes.add(a.fileName() + ": no .cmdline/.dtb/.dtbauto/.initrd/.ucode section — systemd-stub ignores it");
                continue;
            }
            Optional<byte[]> addonUname = a.file().sectionBytes(".uname");
            if (ukiUname.isPresent() && addonUname.isPresent()
                    && !ukiUname.get().equals(new String(addonUname.get(), StandardCharsets.UTF_8))) {
                notes.add(a.fileName() + ": .uname " + new String(addonUname.get(), StandardCharsets.UTF_8).replace("\0", "")
                        + " differs from the UKI's " + ukiUname.get() + " — systemd-stub ignores it");
                continue;
            }
            if (s.has(".dtbauto")) {
                throw new IllegalArgumentException(a.fileName() + ": .dtbauto add-ons depend on the machine's devicetree; "
                        + "cairn does not predict them");
            }
            used.add(a);
        }
        StringBuilder cmdline = new StringBuilder();
        for (Addon a : used) {
            Optional<byte[]> c = a.file().sectionBytes(".cmdline");
            if (c.isPresent()) {
                String extra = mangle(cstring(c.get()));
                cmdline.append(cmdline.length() == 0 ? "" : " ").append(extra);
            }
        }
        String joined = mangle(cmdline.toString());
        if (!joined.isEmpty()) {
            byte[] b = utf16z(joined);
            events.add(new Event(EV_IPL, 0, joined, b, digests(SectionData.of(b), banks)));
        }
        for (Addon a : used) {
            Optional<SectionData> d = a.file().section(".dtb");
            if (d.isPresent()) {
                events.add(tagEvent(DEVICETREE_ADDON_EVENT_TAG_ID, "devicetree add-on " + a.fileName(), a.fileName(), d.get(), banks));
            }
        }
        for (int i = used.size() - 1; i >= 0; i--) {
            Optional<SectionData> d = used.get(i).file().section(".ucode");
            if (d.isPresent()) {
                events.add(tagEvent(UCODE_ADDON_EVENT_TAG_ID, "ucode add-on " + used.get(i).fileName(), used.get(i).fileName(), d.get(), banks));
            }
        }
        for (Addon a : used) {
            Optional<SectionData> d = a.file().section(".initrd");
            if (d.isPresent()) {
                events.add(tagEvent(INITRD_ADDON_EVENT_TAG_ID, "initrd add-on " + a.fileName(), a.fileName(), d.get(), banks));
            }
        }
        return new Result(events, notes);
    }

    /** The text of a UKI section as the selected profile sees it (profile's own, else the base's). */
    private static Optional<String> textOf(UkiFile uki, List<String> names, int profile, String name) throws IOException {
        for (int i : UkiProfiles.select(names, profile)) {
            if (names.get(i).equals(name)) {
                SectionHeader h = uki.image().sections().get(i);
                return Optional.of(cstring(uki.content(h).toBytes(1 << 20)));
            }
        }
        return Optional.empty();
    }

    private static Event tagEvent(int tag, String description, String fileName, SectionData blob, List<PcrPredictor.Bank> banks)
            throws IOException {
        return new Event(EV_EVENT_TAG, tag, description, tagged(tag, utf16z(fileName)), digests(blob, banks));
    }

    /** TCG_PCClientTaggedEvent: u32 taggedEventID, u32 taggedEventDataSize, data. */
    static byte[] tagged(int tag, byte[] data) {
        byte[] out = new byte[8 + data.length];
        dev.cairn.io.LittleEndian.putU32(out, 0, tag & 0xFFFFFFFFL);
        dev.cairn.io.LittleEndian.putU32(out, 4, data.length);
        System.arraycopy(data, 0, out, 8, data.length);
        return out;
    }

    private static Map<PcrPredictor.Bank, byte[]> digests(SectionData data, List<PcrPredictor.Bank> banks) throws IOException {
        return new LinkedHashMap<>(PcrPredictor.digest("", data, banks).digests());
    }

    /** UTF-16LE with a terminating NUL (how systemd-boot and the stub log strings). */
    public static byte[] utf16z(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_16LE);
    }

    /** Up to the first NUL (the stub converts sections with a NUL-bounded copy). */
    static String cstring(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        int z = s.indexOf('\0');
        return z < 0 ? s : s.substring(0, z);
    }

    /**
     * systemd's mangle_stub_cmdline (src/boot/util.c): "whitespace" is every char &lt;= 0x20 and 0x7F; leading and
     * trailing whitespace is dropped, each inner one becomes a space (runs are not collapsed).
     */
    static String mangle(String s) {
        int a = 0;
        int e = s.length();
        while (a < e && whitespace(s.charAt(a))) {
            a++;
        }
        while (e > a && whitespace(s.charAt(e - 1))) {
            e--;
        }
        StringBuilder sb = new StringBuilder(e - a);
        for (int i = a; i < e; i++) {
            char c = s.charAt(i);
            sb.append(whitespace(c) ? ' ' : c);
        }
        return sb.toString();
    }

    private static boolean whitespace(char c) {
        return c <= 0x20 || c == 0x7F;
    }

    /** Which sections an add-on image has. */
    private record PeSections(UkiFile f) {
        boolean has(String name) {
            return f.image().section(name).isPresent();
        }
    }
}
