package dev.cairn.pipeline;

import dev.cairn.signing.DeferredSignatures;
import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Pkcs11KeySource;
import dev.cairn.signing.Secret;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Every key a build signs with, loaded before any work starts: a missing file, a wrong
 * passphrase or an absent token fails the build at once (exit 4, naming the spec line), not after
 * the SquashFS is written. Roles without their own source use their fallback's key.
 */
final class BuildKeys {
    private final Map<KeyRole, KeyMaterial> keys = new EnumMap<>(KeyRole.class);
    private final Map<KeyRole, Boolean> development = new EnumMap<>(KeyRole.class);
    private final DevKeys devKeys;
    /** Where the signatures of deferred roles come from (a signing station), or null when every key is here. */
    private DeferredSignatures deferred;
    /** For each deferred role: the role whose key source it uses (the role a station signs as). */
    private final Map<KeyRole, KeyRole> deferredAs = new EnumMap<>(KeyRole.class);

    private BuildKeys(DevKeys dev) {
        this.devKeys = dev;
    }

    /**
     * The key sources that are not {@code dev}, loaded and type-checked: everything that can fail
     * about the keys, before anything is written (dev keys, the output directory and its lock).
     */
    record Prepared(BuildSpec spec, Map<KeyRole, KeySpec> sources, Map<KeySpec, KeyMaterial> loaded, boolean unsigned) {
        /** The build's keys: the prepared ones, and the development keys in {@code devKeysDir} (created when needed). */
        BuildKeys load(Path devKeysDir, BuildListener listener) throws IOException {
            boolean anyDev = sources.values().stream().anyMatch(k -> k.kind() == KeySpec.Kind.DEV);
            DevKeys dev = anyDev ? DevKeys.openOrCreate(devKeysDir, spec.image().name()) : null;
            BuildKeys b = new BuildKeys(dev);
            for (Map.Entry<KeyRole, KeySpec> e : sources.entrySet()) {
                KeyRole role = e.getKey();
                KeySpec ks = e.getValue();
                KeyMaterial km = loaded.get(ks);
                if (km == null) {
                    km = dev.load(role);
                    checkType(role, ks, km);
                }
                for (String w : KeyLoader.validityWarnings(km.certificate(), Instant.now())) {
                    listener.warning("keys." + role.specName() + ": " + w);
                }
                if (role == KeyRole.IMA && !(km.certificate().getPublicKey() instanceof RSAPublicKey)) {
                    listener.warning("rootfs.ima.key is an EC key: ECDSA signatures differ from build to build, and so will the image's "
                            + "bytes and root hash (an RSA key keeps them reproducible)");
                }
                if (unsigned || ks.kind() == KeySpec.Kind.DEFERRED) {
                    if (b.deferred == null) {
                        b.deferred = new DeferredSignatures();
                    }
                    // a 'dev' source gives the PCR role a key of its own (DevKeys): the station signs it as pcr
                    KeyRole as = ks.kind() == KeySpec.Kind.DEV && role == KeyRole.PCR ? KeyRole.PCR : sourceRole(spec, role);
                    b.deferredAs.put(role, as);
                    km = b.deferred.key(role.specName(), km.certificate(), km.chain());
                }
                b.keys.put(role, km);
                b.development.put(role, ks.kind() == KeySpec.Kind.DEV);
            }
            return b;
        }
    }

    static Prepared prepare(BuildSpec spec) throws IOException {
        return prepare(spec, false);
    }

    /**
     * @param unsigned every role is deferred (the build asks a signing station): keys given as
     *                 {@code key}/{@code cert} files are read for their certificates only; PKCS#12
     *                 files and tokens are opened for theirs
     */
    static Prepared prepare(BuildSpec spec, boolean unsigned) throws IOException {
        // real key sources first, loaded and type-checked: a failure there must not leave dev keys behind
        Map<KeySpec, KeyMaterial> loaded = new HashMap<>();
        Map<KeyRole, KeySpec> sources = new EnumMap<>(KeyRole.class);
        for (KeyRole role : KeyRole.values()) {
            KeySpec ks = source(spec, role);
            if (ks == null) {
                continue;
            }
            sources.put(role, ks);
            if (role == KeyRole.IMA && (unsigned || ks.kind() == KeySpec.Kind.DEFERRED)) {
                // thousands of signatures inside the SquashFS, which the root hash covers: nothing to inject afterwards
                throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                        "IMA signatures are made while the root filesystem is written: rootfs.ima.key cannot be deferred to a "
                                + "signing station (nor can an unsigned build carry them); give a key source that signs now");
            }
            if (ks.kind() != KeySpec.Kind.DEV) {
                KeyMaterial km = loaded.get(ks);
                if (km == null) {
                    km = unsigned && ks.kind() == KeySpec.Kind.FILES || ks.kind() == KeySpec.Kind.DEFERRED ? certificateOnly(ks) : load(ks);
                    loaded.put(ks, km);
                }
                checkType(role, ks, km);
            }
        }
        return new Prepared(spec, sources, loaded, unsigned);
    }

    /** The certificate (and chain) of a key source whose key is elsewhere; its private half is a placeholder never used. */
    private static KeyMaterial certificateOnly(KeySpec ks) throws SpecException {
        try {
            List<X509Certificate> certs = KeyLoader.loadCertificates(ks.cert());
            if (certs.isEmpty()) {
                throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(), ks.cert() + ": no certificate");
            }
            return new DeferredSignatures().key("certificate", certs.get(0), certs);
        } catch (SpecException e) {
            throw e;
        } catch (IOException e) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "cannot read the certificate: " + PipelineException.describe(e));
        }
    }

    /** The role whose entry under {@code keys:} gives {@code role} its key (itself, or the fallback it uses). */
    static KeyRole sourceRole(BuildSpec spec, KeyRole role) {
        KeyRole from = role;
        while (spec.keys().get(from) == null && from.fallback() != null) {
            from = from.fallback();
        }
        return from;
    }

    /** The key source of {@code role}: its own, else its fallback's; null when neither is given. */
    private static KeySpec source(BuildSpec spec, KeyRole role) {
        KeySpec ks = spec.keys().get(role);
        KeyRole from = role;
        while (ks == null && from.fallback() != null) {
            from = from.fallback();
            ks = spec.keys().get(from);
        }
        return ks;
    }

    private static void checkType(KeyRole role, KeySpec ks, KeyMaterial km) throws SpecException {
        if (role == KeyRole.PCR && !(km.certificate().getPublicKey() instanceof RSAPublicKey)) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "the PCR policy key must be RSA (systemd's .pcrsig), this one is " + km.certificate().getPublicKey().getAlgorithm());
        }
        if (role == KeyRole.IMA && !(km.certificate().getPublicKey() instanceof RSAPublicKey)
                && !(km.certificate().getPublicKey() instanceof java.security.interfaces.ECPublicKey)) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "the IMA key must be RSA or EC (kernel asymmetric keys), this one is " + km.certificate().getPublicKey().getAlgorithm());
        }
        if ((role == KeyRole.SECUREBOOT || role == KeyRole.VERITY || role == KeyRole.IPE)
                && !(km.certificate().getPublicKey() instanceof RSAPublicKey)) {
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(),
                    "the " + role.specName() + " key must be RSA (UEFI db and the kernel's platform keyring), this one is "
                            + km.certificate().getPublicKey().getAlgorithm());
        }
    }

    private static KeyMaterial load(KeySpec ks) throws SpecException {
        try {
            return switch (ks.kind()) {
                case FILES -> KeyLoader.fromFiles(ks.key(), ks.cert(), pass(ks.passEnv(), ks.passFile()));
                case PKCS12 -> KeyLoader.fromPkcs12(ks.pkcs12(), pass(ks.passEnv(), ks.passFile()), ks.alias());
                case PKCS11 -> {
                    KeySpec.Pkcs11 p = ks.pkcs11();
                    byte[] id = p.id() == null ? null : HexFormat.of().parseHex(p.id().replace(":", ""));
                    yield new Pkcs11KeySource(p.module(), p.token(), p.slot(), p.label(), id).load(pass(p.pinEnv(), p.pinFile()), ks.cert());
                }
                case DEFERRED -> certificateOnly(ks);
                case DEV -> throw new IllegalStateException("dev keys are loaded by DevKeys");
            };
        } catch (SpecException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String m = e instanceof IOException io ? PipelineException.describe(io) : e.getMessage();
            throw new SpecException(PipelineException.Kind.SIGNING, ks.specFile(), ks.line(), ks.path(), "key source unavailable: " + m);
        }
    }

    private static Secret pass(String env, Path file) throws IOException {
        if (env != null) {
            return Secret.ofEnvironment(env, System.getenv());
        }
        return file == null ? null : Secret.ofFile(file);
    }

    KeyMaterial get(KeyRole role) {
        return keys.get(role);
    }

    boolean has(KeyRole role) {
        return keys.containsKey(role);
    }

    boolean isDevelopment(KeyRole role) {
        return Boolean.TRUE.equals(development.get(role));
    }

    /** The signatures of deferred roles, or null when this build holds every key. */
    DeferredSignatures deferred() {
        return deferred;
    }

    /** The role a station signs {@code role}'s signatures as, or null when {@code role} is signed here. */
    KeyRole deferredAs(KeyRole role) {
        return deferredAs.get(role);
    }

    DevKeys dev() {
        return devKeys;
    }

    /** SHA-256 of the certificate's DER, lower-case hex (what the manifest records). */
    static String fingerprint(KeyMaterial km) throws dev.cairn.signing.SigningException {
        return dev.cairn.signing.CmsSigner.fingerprint(km.certificate());
    }
}
