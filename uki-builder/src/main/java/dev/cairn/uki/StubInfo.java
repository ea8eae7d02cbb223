package dev.cairn.uki;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a systemd stub says about itself: the {@code .sdmagic} string
 * ({@code #### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####}), or failing that the
 * {@code systemd} line of its {@code .sbat}.
 *
 * @param version full version text, e.g. {@code 252.39-1~deb12u2}
 * @param major   systemd major version, e.g. 252
 * @param source  where the version was found
 */
public record StubInfo(String version, int major, String source) {
    private static final Pattern SDMAGIC = Pattern.compile("LoaderInfo: systemd-stub ([0-9]+)([^ \\x00#]*)");
    private static final Pattern SBAT = Pattern.compile("(?m)^systemd,[0-9]+,[^,]*,systemd,([0-9]+)([^,]*),");

    public static Optional<StubInfo> fromSections(byte[] sdmagic, byte[] sbat) {
        if (sdmagic != null) {
            Matcher m = SDMAGIC.matcher(new String(sdmagic, StandardCharsets.ISO_8859_1));
            if (m.find()) {
                return parse(m.group(1), m.group(2), ".sdmagic");
            }
        }
        if (sbat != null) {
            Matcher m = SBAT.matcher(new String(sbat, StandardCharsets.ISO_8859_1));
            if (m.find()) {
                return parse(m.group(1), m.group(2), ".sbat");
            }
        }
        return Optional.empty();
    }

    private static Optional<StubInfo> parse(String major, String rest, String source) {
        try {
            return Optional.of(new StubInfo(major + rest, Integer.parseInt(major), source));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    public MeasurementRule rule() {
        return MeasurementRule.forVersion(major);
    }
}
