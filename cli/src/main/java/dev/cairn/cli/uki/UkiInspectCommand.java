package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.PeSigning;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.LazySpec;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.StubInfo;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.UkiProfiles;
import dev.cairn.uki.pe.PeImage;
import dev.cairn.uki.pe.SectionHeader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn uki inspect}: like {@code ukify inspect}, plus signatures and the stub's measurement rule. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show a UKI's (or any PE image's) sections, stub and signatures.",
                "Each section with size and sha256, text sections' content, the stub's systemd version and PCR 11 rule,",
                "and the Authenticode signatures with whether each covers the image."})
public final class UkiInspectCommand implements Callable<Integer>, LazySpec {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "FILE", description = "The UKI or PE image.")
    Path file;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        UkiFile f = UkiFile.open(file);
        PeImage img = f.image();
        // the largest section is hashed on a second thread while this one identifies the stub and hashes the rest
        SectionHashes hashes = SectionHashes.start(f, img.sections());
        Optional<StubInfo> stub = f.stub();
        String[] sha256 = hashes.all();
        List<Map<String, Object>> sections = new ArrayList<>();
        int index = 0;
        for (SectionHeader s : img.sections()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("size", s.virtualSize());
            m.put("virtualAddress", s.virtualAddress());
            m.put("fileOffset", s.pointerToRawData());
            m.put("sizeOfRawData", s.sizeOfRawData());
            m.put("sha256", sha256[index++]);
            if (UkiFile.TEXT_SECTIONS.contains(s.name()) && s.virtualSize() <= 1 << 20) {
                m.put("text", new String(f.content(s).toBytes(1 << 20), StandardCharsets.UTF_8).replace("\0", ""));
            }
            sections.add(m);
        }
        List<Map<String, Object>> sigs = new ArrayList<>();
        for (PeSigning.Found found : PeSigning.signatures(f)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", found.index());
            m.put("digestAlgorithm", found.signature().digest().jcaName());
            m.put("signer", found.signature().signer().subject() == null ? null : found.signature().signer().subject().getName());
            m.put("issuer", found.signature().signer().issuer().getName());
            m.put("serial", found.signature().signer().serialNumber().toString(16));
            m.put("imageDigest", found.signature().imageDigestHex());
            m.put("imageHashVerifies", found.digestMatches());
            sigs.add(m);
        }
        List<UkiProfiles.Profile> profiles = UkiProfiles.profiles(f);
        List<Map<String, Object>> profileList = new ArrayList<>();
        for (UkiProfiles.Profile p : profiles) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("number", p.number());
            m.put("id", p.id().orElse(null));
            m.put("title", p.title().orElse(null));
            m.put("sections", p.sections().stream().map(i -> img.sections().get(i).name()).toList());
            profileList.add(m);
        }
        PrintWriter out = LazySpec.of(spec).commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file.toString());
            m.put("size", img.fileSize());
            m.put("machine", img.coff().machineName());
            m.put("subsystem", img.optional().subsystem());
            m.put("stub", stub.map(StubInfo::version).orElse(null));
            m.put("measurementRule", stub.map(s -> s.rule().label()).orElse(null));
            m.put("sections", sections);
            m.put("profiles", profileList);
            m.put("signatures", sigs);
            JsonOption.print(out, m);
            return 0;
        }
        String stubText = stub.isPresent() ? ", systemd-stub " + stub.get().version() + " (" + stub.get().rule().label() + ")" : "";
        out.println(file + ": PE " + (img.optional().isPe32Plus() ? "32+" : "32") + ", " + img.coff().machineName() + ", "
                + img.fileSize() + " bytes" + stubText);
        for (Map<String, Object> s : sections) {
            // print, not printf: java.util.Formatter loads the locale data (some 8 ms of a small run)
            out.print(s.get("name"));
            out.println(":");
            out.print("  size: ");
            out.print((long) (Long) s.get("size"));
            out.println(" bytes");
            out.print("  sha256: ");
            out.println(s.get("sha256"));
            if (s.containsKey("text")) {
                String text = ((String) s.get("text")).stripTrailing();
                out.println("  text:");
                // as String.lines(), without setting up java.util.stream for it
                for (String l : text.isEmpty() ? new String[0] : text.split("\\R")) {
                    out.print("    ");
                    out.println(l);
                }
            }
        }
        if (!profiles.isEmpty()) {
            int firstProfile = profiles.get(0).sections().get(0);
            out.println("profiles: " + profiles.size() + " (base: " + String.join(" ", img.sections().subList(0, firstProfile).stream()
                    .map(SectionHeader::name).toList()) + ")");
            for (UkiProfiles.Profile p : profiles) {
                out.println("  @" + p.number() + p.id().map(id -> " ID=" + id).orElse("") + p.title().map(t -> " TITLE=" + t).orElse("")
                        + ": " + String.join(" ", p.sections().stream().map(i -> img.sections().get(i).name()).toList()));
            }
        }
        if (sigs.isEmpty()) {
            out.println("signatures: none");
        }
        for (Map<String, Object> s : sigs) {
            out.println("signature " + s.get("index") + ": " + s.get("digestAlgorithm") + ", signer " + s.get("signer") + " (issuer "
                    + s.get("issuer") + "), image hash " + (Boolean.TRUE.equals(s.get("imageHashVerifies")) ? "verifies" : "DOES NOT MATCH"));
        }
        return 0;
    }

    /**
     * The SHA-256 of each section (hex), the largest one hashed on a second thread (from
     * {@link #start}) while the caller does other work and then hashes the others ({@link #all}): in
     * a fresh JVM the hashing runs interpreted at first, and on an image of a few hundred kilobytes
     * it is a fifth of the command.
     */
    static final class SectionHashes {
        private final UkiFile file;
        private final List<SectionHeader> sections;
        private final int largest;
        private final SectionHasher helper;
        private final Thread thread;

        private SectionHashes(UkiFile file, List<SectionHeader> sections, int largest, SectionHasher helper, Thread thread) {
            this.file = file;
            this.sections = sections;
            this.largest = largest;
            this.helper = helper;
            this.thread = thread;
        }

        /** Starts hashing the largest section on a second thread (when it is worth one). */
        static SectionHashes start(UkiFile f, List<SectionHeader> sections) {
            int largest = -1;
            long max = 0;
            for (int i = 0; i < sections.size(); i++) {
                if (sections.get(i).virtualSize() > max) {
                    max = sections.get(i).virtualSize();
                    largest = i;
                }
            }
            if (max < 64 << 10 || Runtime.getRuntime().availableProcessors() < 2) {
                return new SectionHashes(f, sections, -1, null, null);
            }
            SectionHasher helper = new SectionHasher(f, sections.get(largest));
            Thread thread = new Thread(helper, "cairn-hash");
            thread.setDaemon(true);
            thread.start();
            return new SectionHashes(f, sections, largest, helper, thread);
        }

        /** Every section's hash, in order: the others hashed on this thread, then the second thread's joined. */
        String[] all() throws IOException {
            String[] out = new String[sections.size()];
            for (int i = 0; i < sections.size(); i++) {
                if (i != largest) {
                    out[i] = sha256(file, sections.get(i));
                }
            }
            if (helper != null) {
                out[largest] = helper.result(thread);
            }
            return out;
        }
    }

    private static String sha256(UkiFile f, SectionHeader s) throws IOException {
        return HexFormat.of().formatHex(PcrPredictor.digest(s.name(), f.content(s), List.of(PcrPredictor.Bank.SHA256))
                .digests().get(PcrPredictor.Bank.SHA256));
    }

    /** Hashes one section on its own thread (a class, not a lambda: a fresh JVM links each lambda). */
    private static final class SectionHasher implements Runnable {
        private final UkiFile file;
        private final SectionHeader section;
        private volatile String result;
        private volatile Throwable failure;

        SectionHasher(UkiFile file, SectionHeader section) {
            this.file = file;
            this.section = section;
        }

        @Override
        public void run() {
            try {
                result = sha256(file, section);
            } catch (Throwable t) {
                failure = t;
            }
        }

        String result(Thread thread) throws IOException {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while hashing " + section.name());
            }
            if (failure != null) {
                throw dev.cairn.io.Futures.unwrap(failure);
            }
            return result;
        }
    }
}
