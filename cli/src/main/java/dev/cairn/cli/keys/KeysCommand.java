package dev.cairn.cli.keys;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.io.AtomicOutputGroup;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.secureboot.EfiVariables;
import dev.cairn.signing.secureboot.SecureBootKeys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cairn keys}: key hierarchies. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Key hierarchies: Secure Boot PK/KEK/db, ESL and .auth files.")
public final class KeysCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("secureboot", Main.make(SecureBoot.class));
        m.put("cosign", Main.make(Cosign.class));
        return m;
    }

    /** {@code cairn keys cosign …}. */
    @Command(name = "cosign", mixinStandardHelpOptions = true,
            description = "cosign key pairs: cosign.key (encrypted as cosign writes it) and cosign.pub.")
    public static final class Cosign extends CommandGroup implements Main.LazySubcommands {
        @Override
        public Map<String, Supplier<Object>> subcommands() {
            Map<String, Supplier<Object>> m = new LinkedHashMap<>();
            m.put("generate", Main.make(CosignGenerate.class));
            return m;
        }
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = {"Generate a key pair like cosign generate-key-pair: PREFIX.key and PREFIX.pub in DIR.",
                    "The private key is encrypted as cosign encrypts it (scrypt N=65536, r=8, p=1 and a NaCl secretbox, PEM",
                    "ENCRYPTED SIGSTORE PRIVATE KEY; written 0600) under the password from COSIGN_PASSWORD (as cosign; empty allowed)",
                    "or --key-pass-env/--key-pass-file/--key-pass-stdin. PREFIX.pub is the PEM public key that",
                    "'cairn oci verify --key' and 'cosign verify --key' take. Existing files are never overwritten."})
    static final class CosignGenerate implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = {"--dir", "--output", "-o"}, defaultValue = ".", paramLabel = "DIR", description = "Output directory (default: the current one).")
        Path dir;
        @Option(names = "--output-key-prefix", defaultValue = "cosign", paramLabel = "PREFIX",
                description = "File name prefix, as cosign's option (default cosign: cosign.key, cosign.pub).")
        String prefix;
        @Option(names = "--algorithm", defaultValue = "ecdsa-p256", paramLabel = "ALG",
                description = "ecdsa-p256 (default, as cosign), rsa-2048, rsa-3072 or rsa-4096 (cairn signs them with SHA-256, as cosign does).")
        String algorithm;
        @Option(names = "--key-pass-env", paramLabel = "VAR", description = "Read the password from environment variable VAR.")
        String passEnv;
        @Option(names = "--key-pass-file", paramLabel = "FILE", description = "Read the password from the first line of FILE.")
        Path passFile;
        @Option(names = "--key-pass-stdin", description = "Read the password from the first line of standard input.")
        boolean passStdin;
        @Mixin
        dev.cairn.cli.JsonOption json;

        @Override
        public Integer call() throws IOException {
            if (prefix.isEmpty() || prefix.contains("/") || prefix.equals(".") || prefix.equals("..")) {
                throw new IllegalArgumentException("--output-key-prefix must be a file name prefix, not a path: " + prefix);
            }
            Path keyFile = dir.resolve(prefix + ".key");
            Path pubFile = dir.resolve(prefix + ".pub");
            for (Path p : List.of(keyFile, pubFile)) {
                if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new IllegalArgumentException(p + " exists: cairn never overwrites keys");
                }
            }
            dev.cairn.signing.Secret pass = password();
            java.security.KeyPair pair = generate(algorithm);
            String keyPem = dev.cairn.signing.CosignKeyFile.encrypt(pair.getPrivate(), pass.chars(), new java.security.SecureRandom());
            String pubPem = dev.cairn.signing.CosignKeyFile.publicKeyPem(pair.getPublic());
            try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
                Outputs.writePrivate(outputs, keyFile, keyPem.getBytes(StandardCharsets.US_ASCII));
                Outputs.write(outputs, pubFile, pubPem.getBytes(StandardCharsets.US_ASCII));
                Outputs.commit(outputs);
            }
            if (json.enabled()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("privateKey", keyFile.toString());
                out.put("publicKey", pubFile.toString());
                out.put("algorithm", algorithm);
                dev.cairn.cli.JsonOption.print(spec.commandLine().getOut(), out);
            } else {
                spec.commandLine().getOut().println("Private key written to " + keyFile);
                spec.commandLine().getOut().println("Public key written to " + pubFile);
            }
            return 0;
        }

        private dev.cairn.signing.Secret password() throws IOException {
            dev.cairn.signing.Secret given = KeyOptions.secret(passEnv, passFile, passStdin, "password",
                    "--key-pass-env, --key-pass-file or --key-pass-stdin");
            if (given != null) {
                return given;
            }
            if (dev.cairn.cli.Environment.get(KeyOptions.COSIGN_PASSWORD) != null) {
                return dev.cairn.signing.Secret.ofEnvironment(KeyOptions.COSIGN_PASSWORD,
                        Map.of(KeyOptions.COSIGN_PASSWORD, dev.cairn.cli.Environment.get(KeyOptions.COSIGN_PASSWORD)));
            }
            throw new IllegalArgumentException("the key's password: set COSIGN_PASSWORD (as cosign; empty is allowed) or give"
                    + " --key-pass-env, --key-pass-file or --key-pass-stdin");
        }

        static java.security.KeyPair generate(String algorithm) {
            try {
                java.security.KeyPairGenerator g;
                switch (algorithm) {
                    case "ecdsa-p256" -> {
                        g = java.security.KeyPairGenerator.getInstance("EC");
                        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
                    }
                    case "rsa-2048", "rsa-3072", "rsa-4096" -> {
                        g = java.security.KeyPairGenerator.getInstance("RSA");
                        g.initialize(Integer.parseInt(algorithm.substring(4)));
                    }
                    default -> throw new IllegalArgumentException("--algorithm: unknown " + algorithm
                            + " (ecdsa-p256, rsa-2048, rsa-3072 or rsa-4096)");
                }
                return g.generateKeyPair();
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("the JDK cannot generate " + algorithm + " keys", e);
            }
        }
    }

    /** {@code cairn keys secureboot …}. */
    @Command(name = "secureboot", mixinStandardHelpOptions = true,
            description = {"UEFI Secure Boot keys: PK/KEK/db, ESLs, signed .auth updates.",
                    "create PK/KEK/db like sbctl create-keys; ESL and signed .auth updates like efitools."})
    public static final class SecureBoot extends CommandGroup implements Main.LazySubcommands {
        @Override
        public Map<String, Supplier<Object>> subcommands() {
            Map<String, Supplier<Object>> m = new LinkedHashMap<>();
            m.put("create", Main.make(Create.class));
            m.put("esl", Main.make(Esl.class));
            m.put("auth", Main.make(Auth.class));
            m.put("ovmf-vars", Main.make(OvmfVars.class));
            return m;
        }
    }

    static Instant time(SourceDateEpochOption sde, CommandLine cmd) {
        return sde.instant(cmd).orElseGet(() -> Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    @Command(name = "ovmf-vars", mixinStandardHelpOptions = true,
            description = {"Write an OVMF/edk2 variable store with your own PK/KEK/db and Secure Boot on.",
                    "The keys of DIR (from 'keys secureboot create', or any DIR holding PK.esl, KEK.esl, db.esl) are",
                    "enrolled, to boot-test with your own keys:",
                    "qemu ... -drive if=pflash,format=raw,unit=1,file=VARS.fd with OVMF_CODE_4M.secboot.fd."})
    static final class OvmfVars implements Callable<Integer> {
        static final Path DEBIAN_TEMPLATE = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Directory with PK.esl, KEK.esl and db.esl.")
        Path dir;
        @Option(names = {"--output", "-o", "--out"}, required = true, paramLabel = "FILE", description = "The variable store to write.")
        Path out;
        @Option(names = "--template", paramLabel = "FILE", description = "Empty variable store to start from (default: Debian's /usr/share/OVMF/OVMF_VARS_4M.fd).")
        Path template;
        @Option(names = "--dbx", paramLabel = "ESL", description = "Signature list for dbx (default: none).")
        Path dbx;
        @Mixin
        SourceDateEpochOption sourceDateEpoch;

        @Override
        public Integer call() throws IOException {
            Path t = template != null ? template : DEBIAN_TEMPLATE;
            if (template == null && !Files.isRegularFile(t)) {
                throw new IllegalArgumentException(t + " is missing: install the ovmf package or give --template");
            }
            if (Files.size(t) > 64L * 1024 * 1024) {
                throw new dev.cairn.io.FormatException("--template", t, "larger than 64 MiB: not an OVMF variable store");
            }
            Instant time = sourceDateEpoch.instant(spec.commandLine()).orElse(Instant.parse("2010-01-01T00:00:00Z"));
            byte[] fd = dev.cairn.signing.secureboot.OvmfVarStore.enroll(Files.readAllBytes(t),
                    dev.cairn.signing.secureboot.OvmfVarStore.secureBoot(Files.readAllBytes(dir.resolve("PK.esl")),
                            Files.readAllBytes(dir.resolve("KEK.esl")), Files.readAllBytes(dir.resolve("db.esl")),
                            dbx == null ? null : Files.readAllBytes(dbx), time));
            Outputs.write(out, fd);
            spec.commandLine().getOut().println("Wrote " + out + ": PK, KEK, db" + (dbx != null ? ", dbx" : "")
                    + " enrolled, Secure Boot on (use with OVMF_CODE_4M.secboot.fd)");
            return 0;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create PK, KEK and db keys, their ESLs and the signed .auth updates in DIR.",
                    "Self-signed certificates; the .auth updates enroll them (PK by PK, KEK by PK, db by KEK).",
                    "Private keys are written 0600."})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = {"--dir", "--output", "-o"}, required = true, paramLabel = "DIR", description = "Output directory (must not already hold keys).")
        Path dir;
        @Option(names = "--subject", defaultValue = "cairn", paramLabel = "NAME", description = "Common-name prefix (default cairn).")
        String subject;
        @Option(names = "--key-size", defaultValue = "4096", paramLabel = "BITS", description = "RSA size: 2048, 3072, 4096 (default, as sbctl).")
        int keySize;
        @Option(names = "--days", defaultValue = "1826", paramLabel = "N", description = "Certificate validity in days (default 5 years).")
        int days;
        @Option(names = "--owner-guid", paramLabel = "GUID", description = "Signature owner GUID (default: random, saved as DIR/GUID).")
        UUID owner;
        @Option(names = "--microsoft-kek", paramLabel = "CERT", description = "Vendor KEK certificate(s) to append (Microsoft KEK CA 2011/2023).")
        List<Path> msKek = new ArrayList<>();
        @Option(names = "--microsoft-db", paramLabel = "CERT", description = "Vendor db certificate(s) to append (Microsoft Windows PCA, UEFI CA).")
        List<Path> msDb = new ArrayList<>();
        @Mixin
        SourceDateEpochOption sourceDateEpoch;

        @Override
        public Integer call() throws IOException {
            for (String v : SecureBootKeys.VARIABLES) {
                if (Files.exists(dir.resolve(v + ".key"))) {
                    throw new IllegalArgumentException(dir.resolve(v + ".key") + " exists: cairn never overwrites private keys");
                }
            }
            PrintWriter err = spec.commandLine().getErr();
            if (msKek.isEmpty() && msDb.isEmpty()) {
                err.println("cairn: WARNING: no Microsoft certificates given (--microsoft-kek/--microsoft-db). Enrolling these keys");
                err.println("cairn: WARNING: on real hardware can brick machines whose GPU/NIC option ROMs are signed by Microsoft,");
                err.println("cairn: WARNING: and stops shim and Windows from booting. Fine for VMs and test machines.");
            }
            UUID guid = owner != null ? owner : UUID.randomUUID();
            Instant t = time(sourceDateEpoch, spec.commandLine());
            Map<String, SecureBootKeys.Level> levels = new SecureBootKeys(keySize, Duration.ofDays(days), guid, subject)
                    .create(t, load(msKek), load(msDb));
            // all or nothing: a half-written set (keys without their GUID) could neither be used nor recreated
            try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
                Outputs.write(outputs, dir.resolve("GUID"), (guid + "\n").getBytes(StandardCharsets.US_ASCII));
                for (SecureBootKeys.Level l : levels.values()) {
                    Outputs.writePrivate(outputs, dir.resolve(l.variable() + ".key"), l.keyPem());
                    Outputs.write(outputs, dir.resolve(l.variable() + ".crt"), l.certPem());
                    Outputs.write(outputs, dir.resolve(l.variable() + ".esl"), l.esl());
                    Outputs.write(outputs, dir.resolve(l.variable() + ".auth"), l.auth());
                }
                Outputs.commit(outputs);
            }
            spec.commandLine().getOut().println("Created PK, KEK and db in " + dir + " (owner " + guid + "); enroll db.auth, KEK.auth, "
                    + "then PK.auth (PK last: it ends Setup Mode).");
            return 0;
        }

        private static List<X509Certificate> load(List<Path> files) throws IOException {
            List<X509Certificate> out = new ArrayList<>();
            for (Path f : files) {
                out.addAll(KeyLoader.loadCertificates(f));
            }
            return out;
        }
    }

    @Command(name = "esl", mixinStandardHelpOptions = true,
            description = "Write an EFI signature list of X.509 certificates (like efitools cert-to-efi-sig-list).")
    static final class Esl implements Callable<Integer> {
        @Option(names = "--cert", required = true, paramLabel = "FILE", description = "Certificate(s), PEM or DER (repeatable).")
        List<Path> certs = new ArrayList<>();
        @Option(names = {"--owner-guid", "-g"}, paramLabel = "GUID", description = "Signature owner (default all zero, as efitools).")
        UUID owner = new UUID(0, 0);
        @Option(names = {"--output", "-o", "--out"}, required = true, paramLabel = "FILE", description = "Where to write the signature list.")
        Path out;

        @Override
        public Integer call() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (Path p : certs) {
                for (X509Certificate c : KeyLoader.loadCertificates(p)) {
                    b.writeBytes(EfiVariables.signatureList(owner, c));
                }
            }
            Outputs.write(out, b.toByteArray());
            return 0;
        }
    }

    @Command(name = "auth", mixinStandardHelpOptions = true,
            description = {"Sign an ESL as an authenticated update, like efitools sign-efi-sig-list.",
                    "A time-based authenticated update of PK, KEK, db or dbx, byte-identical to sign-efi-sig-list's for",
                    "the same key, certificate and timestamp."})
    static final class Auth implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--var", required = true, paramLabel = "NAME", description = "PK, KEK, db or dbx.")
        String variable;
        @Option(names = "--esl", required = true, paramLabel = "FILE", description = "The signature list to enroll.")
        Path esl;
        @Option(names = {"--append", "-a"}, description = "An APPEND_WRITE update (add to the variable).")
        boolean append;
        @Option(names = {"--output", "-o", "--out"}, required = true, paramLabel = "FILE", description = "Where to write the authenticated update (.auth).")
        Path out;
        @Mixin
        SourceDateEpochOption sourceDateEpoch;
        @Mixin
        KeyOptions keys;

        @Override
        public Integer call() throws IOException {
            UUID vendor = EfiVariables.vendorOf(variable);
            KeyMaterial km = keys.load(spec.commandLine().getErr());
            Outputs.write(out, EfiVariables.authenticatedUpdate(variable, vendor, append, time(sourceDateEpoch, spec.commandLine()),
                    Files.readAllBytes(esl), km));
            return 0;
        }
    }
}
