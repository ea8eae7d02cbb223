package dev.cairn.signing.secureboot;

import dev.cairn.io.FormatException;
import dev.cairn.signing.SigningException;
import dev.cairn.signing.authenticode.AuthenticodeVerifier;
import dev.cairn.signing.pcr.PcrBank;
import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * PCR 7 as UEFI firmware with Secure Boot on extends it (edk2 Tcg2Dxe {@code MeasureSecureBootPolicy}
 * and DxeImageVerificationLib {@code SecureBootHook}; measured-boot.md §1): one
 * EV_EFI_VARIABLE_DRIVER_CONFIG event each for SecureBoot, PK, KEK, db and dbx (an absent variable
 * is measured with no data), dbt only when present, the EV_SEPARATOR (four zero bytes), then one
 * EV_EFI_VARIABLE_AUTHORITY event per distinct db entry that verified a boot image, in load order.
 * Every event's digest covers its whole UEFI_VARIABLE_DATA.
 */
public final class Pcr7Prediction {
    public static final int EV_SEPARATOR = 0x0000_0004;
    public static final int EV_EFI_VARIABLE_DRIVER_CONFIG = 0x8000_0001;
    public static final int EV_EFI_VARIABLE_AUTHORITY = 0x8000_00E0;

    /** One event of the PCR 7 log. */
    public record Event(int type, String description, byte[] data) {
        public Event {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        public byte[] digest(PcrBank bank) {
            return hash(bank, data);
        }
    }

    /**
     * The Secure Boot variables as the firmware reads them at boot; null = absent.
     *
     * @param secureBoot the SecureBoot variable's byte (1 when Secure Boot is on)
     */
    public record Variables(int secureBoot, byte[] pk, byte[] kek, byte[] db, byte[] dbx, byte[] dbt) {
        public Variables {
            if (secureBoot != 0 && secureBoot != 1) {
                throw new IllegalArgumentException("SecureBoot is 0 or 1");
            }
        }

        /**
         * From an OVMF variable store: PK, KEK, db, dbx, dbt as enrolled. SecureBoot is 1 when a PK is
         * enrolled and SecureBootEnable (when the store has it) is 1, as OVMF's AuthVariableLib sets it.
         */
        public static Variables of(List<OvmfVarStore.Variable> store) {
            byte[] pk = find(store, "PK", EfiVariables.GLOBAL_VARIABLE);
            byte[] enable = find(store, "SecureBootEnable", OvmfVarStore.SECURE_BOOT_ENABLE_DISABLE);
            int sb = pk != null && (enable == null || (enable.length == 1 && enable[0] == 1)) ? 1 : 0;
            return new Variables(sb, pk, find(store, "KEK", EfiVariables.GLOBAL_VARIABLE),
                    find(store, "db", EfiVariables.IMAGE_SECURITY_DATABASE), find(store, "dbx", EfiVariables.IMAGE_SECURITY_DATABASE),
                    find(store, "dbt", EfiVariables.IMAGE_SECURITY_DATABASE));
        }

        private static byte[] find(List<OvmfVarStore.Variable> store, String name, UUID vendor) {
            for (OvmfVarStore.Variable v : store) {
                if (v.name().equals(name) && v.vendor().equals(vendor)) {
                    return v.data();
                }
            }
            return null;
        }
    }

    private Pcr7Prediction() {
    }

    /** The PCR 7 log: variables, separator, then the authority entries in load order (duplicates dropped). */
    public static List<Event> events(Variables v, List<EfiSignatureList.Entry> authorities) {
        if (v.secureBoot() != 1) {
            throw new IllegalArgumentException("Secure Boot is off in this variable store (no PK enrolled, or "
                    + "SecureBootEnable is 0): PCR 7 then carries no authority events");
        }
        List<Event> out = new ArrayList<>();
        out.add(variable(EfiVariables.GLOBAL_VARIABLE, "SecureBoot", new byte[] {(byte) v.secureBoot()}));
        out.add(variable(EfiVariables.GLOBAL_VARIABLE, "PK", v.pk()));
        out.add(variable(EfiVariables.GLOBAL_VARIABLE, "KEK", v.kek()));
        out.add(variable(EfiVariables.IMAGE_SECURITY_DATABASE, "db", v.db()));
        out.add(variable(EfiVariables.IMAGE_SECURITY_DATABASE, "dbx", v.dbx()));
        if (v.dbt() != null) {
            out.add(variable(EfiVariables.IMAGE_SECURITY_DATABASE, "dbt", v.dbt()));
        }
        out.add(new Event(EV_SEPARATOR, "separator", new byte[4]));
        List<byte[]> seen = new ArrayList<>();
        for (EfiSignatureList.Entry a : authorities) {
            byte[] entry = a.encode();
            if (seen.stream().anyMatch(s -> Arrays.equals(s, entry))) {
                continue; // the firmware measures each db entry once per boot
            }
            seen.add(entry);
            out.add(new Event(EV_EFI_VARIABLE_AUTHORITY, "db entry of owner " + a.owner(),
                    new UefiVariableData(EfiVariables.IMAGE_SECURITY_DATABASE, "db", entry).encode()));
        }
        return out;
    }

    private static Event variable(UUID vendor, String name, byte[] data) {
        return new Event(EV_EFI_VARIABLE_DRIVER_CONFIG, name + (data == null ? " (absent)" : ""),
                new UefiVariableData(vendor, name, data == null ? new byte[0] : data).encode());
    }

    /** Replays the events into a zero PCR of {@code bank}. */
    public static byte[] replay(List<Event> events, PcrBank bank) {
        byte[] pcr = new byte[bank.digestLength()];
        for (Event e : events) {
            pcr = hash(bank, pcr, e.digest(bank));
        }
        return pcr;
    }

    /**
     * The db entry through which the firmware accepts an image with this Authenticode signature and
     * digest: the first X.509 entry of db (list order) that verifies the signature, else a SHA-256
     * entry equal to the image digest (DxeImageVerificationLib checks certificates first).
     *
     * @param signatures  the image's Authenticode signatures (DER PKCS#7), in certificate-table order
     * @param imageDigest the image's Authenticode digest by JCA algorithm name
     * @throws SigningException the image is forbidden by dbx or nothing in db verifies it
     */
    public static EfiSignatureList.Entry authority(Variables v, List<byte[]> signatures,
                                                   java.util.function.Function<String, byte[]> imageDigest)
            throws SigningException, FormatException {
        byte[] sha256ImageDigest = imageDigest.apply("SHA-256");
        if (v.db() == null) {
            throw new SigningException("db is empty: the firmware would refuse every image");
        }
        List<EfiSignatureList> dbx = v.dbx() == null ? List.of() : EfiSignatureList.parseAll(v.dbx(), "dbx");
        if (find(dbx, EfiSignatureList.CERT_SHA256, List.of(sha256ImageDigest)) != null) {
            throw new SigningException("the image's SHA-256 " + HexFormat.of().formatHex(sha256ImageDigest)
                    + " is in dbx: the firmware refuses it");
        }
        List<EfiSignatureList> db = EfiSignatureList.parseAll(v.db(), "db");
        List<String> why = new ArrayList<>();
        for (byte[] sig : signatures) {
            String alg;
            try {
                alg = dev.cairn.signing.authenticode.AuthenticodeSignature.parse(sig).digest().jcaName();
            } catch (FormatException e) {
                why.add(e.getMessage());
                continue;
            }
            byte[] digest = imageDigest.apply(alg);
            for (EfiSignatureList.Entry e : entries(db, EfiVariables.CERT_X509)) {
                if (find(dbx, EfiVariables.CERT_X509, List.of(e.data())) != null) {
                    continue;
                }
                X509Certificate cert = certificate(e.data());
                try {
                    AuthenticodeVerifier.verify(sig, digest, List.of(cert));
                    return e;
                } catch (SigningException | FormatException ex) {
                    why.add(cert.getSubjectX500Principal() + ": " + ex.getMessage());
                }
            }
        }
        EfiSignatureList.Entry byHash = find(db, EfiSignatureList.CERT_SHA256, List.of(sha256ImageDigest));
        if (byHash != null) {
            return byHash;
        }
        throw new SigningException("no db entry verifies the image" + (why.isEmpty() ? " (it is unsigned)" : ": " + String.join("; ", why)));
    }

    /**
     * The db entry through which the firmware accepts an image signed with this certificate chain
     * (leaf first), before any signature exists: the first X.509 entry of db, in list order, that is
     * one of the chain's certificates (the signer itself or a CA above it, as edk2's Authenticode
     * check with that entry as the trust anchor accepts it).
     *
     * @throws SigningException a certificate of the chain is in dbx, or none is in db
     */
    public static EfiSignatureList.Entry authority(Variables v, List<X509Certificate> chain) throws SigningException, FormatException {
        if (v.db() == null) {
            throw new SigningException("db is empty: the firmware would refuse every image");
        }
        List<byte[]> ders = new ArrayList<>();
        for (X509Certificate c : chain) {
            try {
                ders.add(c.getEncoded());
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new SigningException("cannot encode " + c.getSubjectX500Principal(), e);
            }
        }
        if (v.dbx() != null && find(EfiSignatureList.parseAll(v.dbx(), "dbx"), EfiVariables.CERT_X509, ders) != null) {
            throw new SigningException("the signing certificate (or its CA) is in dbx: the firmware would refuse the image");
        }
        EfiSignatureList.Entry e = find(EfiSignatureList.parseAll(v.db(), "db"), EfiVariables.CERT_X509, ders);
        if (e == null) {
            throw new SigningException("no db entry of the key store is the signing certificate "
                    + chain.get(0).getSubjectX500Principal() + " or a CA above it: the firmware would refuse the image");
        }
        return e;
    }

    /** The entries of {@code type}, in list order. */
    private static List<EfiSignatureList.Entry> entries(List<EfiSignatureList> lists, UUID type) {
        List<EfiSignatureList.Entry> out = new ArrayList<>();
        for (EfiSignatureList l : lists) {
            if (l.type().equals(type)) {
                out.addAll(l.entries());
            }
        }
        return out;
    }

    /** The first entry of {@code type} whose data is one of {@code data}, or null. */
    private static EfiSignatureList.Entry find(List<EfiSignatureList> lists, UUID type, List<byte[]> data) {
        for (EfiSignatureList.Entry e : entries(lists, type)) {
            byte[] d = e.data();
            if (data.stream().anyMatch(x -> Arrays.equals(x, d))) {
                return e;
            }
        }
        return null;
    }

    private static X509Certificate certificate(byte[] der) throws FormatException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw new FormatException("db X.509 entry", null, "not a DER certificate: " + e.getMessage());
        }
    }

    static byte[] hash(PcrBank bank, byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance(bank.jcaName());
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(bank.jcaName() + " unavailable", e);
        }
    }
}
