package dev.cairn.pipeline;

import dev.cairn.pipeline.SpecTree.Node;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the kernel and stub a spec names. A file name may hold a {@code *} glob (e.g.
 * {@code /boot/vmlinuz-6.1.*-amd64}): the highest version wins, compared number by number, so
 * a spec works across Debian's kernel updates. Missing files name the Debian package to install.
 */
final class KernelFiles {
    static final Path DEFAULT_STUB = Path.of("/usr/lib/systemd/boot/efi/linuxx64.efi.stub");

    private KernelFiles() {
    }

    static Path resolve(SpecTree t, Node parent, String key, Path dflt) throws SpecException {
        String s = t.string(parent, key, dflt == null);
        Node at = t.node(parent, key);
        Path p = s == null ? dflt : t.path(parent, key, true);
        if (p.getFileName() != null && p.getFileName().toString().contains("*")) {
            if (p.getParent() == null || p.getParent().toString().contains("*")) {
                throw t.error(at, "only the file name may hold '*'");
            }
            List<Path> matches = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p.getParent(), p.getFileName().toString())) {
                for (Path m : ds) {
                    if (Files.isRegularFile(m)) {
                        matches.add(m);
                    }
                }
            } catch (IOException e) {
                // no such directory: reported below as "nothing matches"
            }
            if (matches.isEmpty()) {
                throw t.error(at, "nothing matches " + p + packageHint(p));
            }
            matches.sort(Comparator.comparing((Path m) -> versionKey(m.getFileName().toString())));
            return matches.get(matches.size() - 1);
        }
        if (!Files.isRegularFile(p)) {
            throw t.error(at != null ? at : parent, p + ": no such file" + packageHint(p));
        }
        return p;
    }

    /**
     * How the manifest names {@code resolved}, the file {@code key} named: as the spec wrote it, with
     * a glob resolved. A relative path stays relative to the spec's directory (with '/'), an absolute
     * one (and the default) stays absolute, so the same spec in another checkout gives the same name.
     */
    static String asWritten(SpecTree t, Node parent, String key, Path resolved) throws SpecException {
        String s = t.string(parent, key, false);
        if (s == null || Path.of(s).isAbsolute()) {
            return resolved.toString();
        }
        Path base = t.file().toAbsolutePath().getParent();
        Path rel = base.relativize(resolved);
        StringBuilder b = new StringBuilder();
        for (Path part : rel) {
            b.append(b.length() == 0 ? "" : "/").append(part);
        }
        return b.toString();
    }

    /** The kernel's release ({@code uname -r}) as its bzImage header says it, or null. */
    static String release(Path kernel) {
        try (java.io.InputStream in = Files.newInputStream(kernel)) {
            return dev.cairn.uki.KernelInfo.uname(in.readNBytes(64 * 1024)).orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** " (install Debian package X)" for the files cairn's users usually lack. */
    static String packageHint(Path p) {
        String s = p.toString();
        if (s.contains("linuxx64.efi.stub") || s.contains("/systemd/boot/efi/")) {
            return " (install Debian package systemd-boot-efi)";
        }
        if (s.startsWith("/boot/vmlinuz")) {
            return " (install Debian package linux-image-amd64)";
        }
        if (s.equals("/bin/busybox") || s.equals("/usr/bin/busybox")) {
            return " (install Debian package busybox-static)";
        }
        if (s.endsWith("/veritysetup")) {
            return " (install Debian package cryptsetup-bin)";
        }
        return "";
    }

    /** Digit runs zero-padded so 6.1.0-10 sorts after 6.1.0-9. */
    static String versionKey(String name) {
        StringBuilder sb = new StringBuilder();
        Matcher m = Pattern.compile("\\d+|\\D+").matcher(name);
        while (m.find()) {
            String g = m.group();
            sb.append(Character.isDigit(g.charAt(0)) ? String.format("%20s", g.length() > 20 ? g.substring(0, 20) : g).replace(' ', '0') : g);
        }
        return sb.toString();
    }
}
