package dev.cairn.signing.secureboot;

import dev.cairn.io.FormatException;
import dev.cairn.io.LittleEndian;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * An OVMF/edk2 non-volatile variable store ({@code OVMF_VARS*.fd}): a firmware volume
 * ({@code _FVH}, file system GUID NvData) whose first bytes after the volume header are an
 * authenticated variable store (GUID AuthVars, format 0x5A, state 0xFE), followed by 4-byte
 * aligned variables: {@code AUTHENTICATED_VARIABLE_HEADER} (60 bytes), UCS-2 name with NUL, data.
 * The rest of the volume (fault-tolerant-write area) is kept from the template as it is.
 * (edk2 MdeModulePkg/Include/Guid/VariableFormat.h; layout cross-checked against Debian's
 * OVMF_VARS_4M.snakeoil.fd.)
 */
public final class OvmfVarStore {
    public static final UUID NV_DATA_FV = UUID.fromString("fff12b8d-7696-4c8b-a985-2747075b4f50");
    public static final UUID AUTH_VARS = UUID.fromString("aaf32c78-947b-439a-a180-2e144ec37792");
    public static final UUID SECURE_BOOT_ENABLE_DISABLE = UUID.fromString("f0a30bc7-af08-4556-99c4-001009c93a44");
    public static final UUID CUSTOM_MODE = UUID.fromString("c076ec0c-7028-4399-a072-71ee5c448b9f");
    /** NV | BS: the setup-mode switches. */
    public static final int NV_BS = 0x3;
    static final int VAR_ADDED = 0x3F;
    static final int VAR_IN_DELETED_TRANSITION_ADDED = 0x3E;
    static final int START_ID = 0x55AA;
    static final int STORE_HEADER = 28;

    private OvmfVarStore() {
    }

    /**
     * One variable.
     *
     * @param time EFI_TIME of a time-based authenticated variable, or null (all zero)
     */
    public record Variable(String name, UUID vendor, int attributes, Instant time, byte[] data) {
        public Variable {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }
    }

    /**
     * {@code AUTHENTICATED_VARIABLE_HEADER}.
     *
     * @param startId        +0  u16 0x55AA
     * @param state          +2  u8
     * @param attributes     +4  u32
     * @param monotonicCount +8  u64
     * @param timeStamp      +16 EFI_TIME (16 bytes)
     * @param pubKeyIndex    +32 u32
     * @param nameSize       +36 u32 (bytes, NUL included)
     * @param dataSize       +40 u32
     * @param vendorGuid     +44 GUID
     */
    record VariableHeader(int startId, int state, long attributes, long monotonicCount, byte[] timeStamp, long pubKeyIndex,
                          long nameSize, long dataSize, byte[] vendorGuid) {
        static final int SIZE = 60;

        void encode(byte[] b, int off) {
            LittleEndian.putU16(b, off, startId);
            b[off + 2] = (byte) state;
            b[off + 3] = 0;
            LittleEndian.putU32(b, off + 4, attributes);
            LittleEndian.putU64(b, off + 8, monotonicCount);
            System.arraycopy(timeStamp, 0, b, off + 16, 16);
            LittleEndian.putU32(b, off + 32, pubKeyIndex);
            LittleEndian.putU32(b, off + 36, nameSize);
            LittleEndian.putU32(b, off + 40, dataSize);
            System.arraycopy(vendorGuid, 0, b, off + 44, 16);
        }

        static VariableHeader decode(byte[] b, int off) throws FormatException {
            return new VariableHeader(LittleEndian.u16(b, off, "StartId"), LittleEndian.u8(b, off + 2, "State"),
                    LittleEndian.u32(b, off + 4, "Attributes"), LittleEndian.u64(b, off + 8, "MonotonicCount"),
                    Arrays.copyOfRange(b, off + 16, off + 32), LittleEndian.u32(b, off + 32, "PubKeyIndex"),
                    LittleEndian.u32(b, off + 36, "NameSize"), LittleEndian.u32(b, off + 40, "DataSize"),
                    Arrays.copyOfRange(b, off + 44, off + 60));
        }
    }

    /** Where the variables live in a store image: first variable offset and end of the store. */
    record Layout(int first, int end) {
    }

    static Layout layout(byte[] fd) throws FormatException {
        if (fd.length < 0x48 + STORE_HEADER || fd[40] != '_' || fd[41] != 'F' || fd[42] != 'V' || fd[43] != 'H') {
            throw new FormatException(40, "Signature", null, "not a firmware volume (no _FVH): use an OVMF_VARS*.fd file");
        }
        if (!Arrays.equals(Arrays.copyOfRange(fd, 16, 32), EfiVariables.guid(NV_DATA_FV))) {
            throw new FormatException(16, "FileSystemGuid", null, "not an NV variable volume");
        }
        int headerLength = LittleEndian.u16(fd, 48, "HeaderLength");
        if (!Arrays.equals(Arrays.copyOfRange(fd, headerLength, headerLength + 16), EfiVariables.guid(AUTH_VARS))) {
            throw new FormatException(headerLength, "VARIABLE_STORE_HEADER.Signature", null,
                    "not an authenticated variable store (OVMF built without Secure Boot support?)");
        }
        long size = LittleEndian.u32(fd, headerLength + 16, "VARIABLE_STORE_HEADER.Size");
        int format = LittleEndian.u8(fd, headerLength + 20, "Format");
        int state = LittleEndian.u8(fd, headerLength + 21, "State");
        if (format != 0x5A || state != 0xFE) {
            throw new FormatException(headerLength + 20, "VARIABLE_STORE_HEADER.Format/State", format + "/" + state,
                    "variable store is not formatted and healthy (0x5a/0xfe)");
        }
        if (size < STORE_HEADER || headerLength + size > fd.length) {
            throw new FormatException(headerLength + 16, "VARIABLE_STORE_HEADER.Size", size, "runs past the volume");
        }
        return new Layout(headerLength + STORE_HEADER, Math.toIntExact(headerLength + size));
    }

    /** The live variables of a store (added, not deleted), in store order. */
    public static List<Variable> read(byte[] fd) throws FormatException {
        Layout l = layout(fd);
        List<Variable> out = new ArrayList<>();
        int p = l.first();
        while (p + VariableHeader.SIZE <= l.end()) {
            VariableHeader h = VariableHeader.decode(fd, p);
            if (h.startId() != START_ID) {
                break;
            }
            long next = p + (long) VariableHeader.SIZE + h.nameSize() + h.dataSize();
            if (h.nameSize() < 2 || h.nameSize() % 2 != 0 || next > l.end()) {
                throw new FormatException(p, "variable", null, "name or data runs past the store");
            }
            if (h.state() == VAR_ADDED || h.state() == VAR_IN_DELETED_TRANSITION_ADDED) {
                int nameOff = p + VariableHeader.SIZE;
                String name = new String(fd, nameOff, Math.toIntExact(h.nameSize() - 2), StandardCharsets.UTF_16LE);
                byte[] data = Arrays.copyOfRange(fd, Math.toIntExact(nameOff + h.nameSize()), Math.toIntExact(next));
                out.add(new Variable(name, uuid(h.vendorGuid()), Math.toIntExact(h.attributes()), null, data));
            }
            p = Math.toIntExact((next + 3) & ~3L);
        }
        return out;
    }

    /**
     * A copy of {@code template} (an empty OVMF variable store, e.g. Debian's OVMF_VARS_4M.fd)
     * with {@code variables} added after the ones it holds. Refuses a template that already
     * defines one of them.
     */
    public static byte[] enroll(byte[] template, List<Variable> variables) throws FormatException {
        Layout l = layout(template);
        List<Variable> existing = read(template);
        for (Variable v : variables) {
            for (Variable e : existing) {
                if (e.name().equals(v.name()) && e.vendor().equals(v.vendor())) {
                    throw new FormatException("template variable", v.name(), "the template already holds " + v.name()
                            + ": start from an empty store (OVMF_VARS_4M.fd)");
                }
            }
        }
        byte[] fd = template.clone();
        int p = l.first();
        while (p + VariableHeader.SIZE <= l.end() && LittleEndian.u16(fd, p, "StartId") == START_ID) {
            VariableHeader h = VariableHeader.decode(fd, p);
            p = Math.toIntExact((p + (long) VariableHeader.SIZE + h.nameSize() + h.dataSize() + 3) & ~3L);
        }
        for (Variable v : variables) {
            byte[] name = (v.name() + "\0").getBytes(StandardCharsets.UTF_16LE);
            byte[] data = v.data();
            int size = VariableHeader.SIZE + name.length + data.length;
            if (p + size > l.end()) {
                throw new FormatException("variable store", v.name(), "does not fit in the " + (l.end() - l.first()) + "-byte store");
            }
            for (int i = p; i < p + size; i++) {
                if (fd[i] != (byte) 0xFF) {
                    throw new FormatException(i, "variable store", null, "free space is not erased (0xFF)");
                }
            }
            byte[] time = v.time() == null ? new byte[16] : EfiVariables.efiTime(v.time());
            new VariableHeader(START_ID, VAR_ADDED, v.attributes(), 0, time, 0, name.length, data.length, EfiVariables.guid(v.vendor()))
                    .encode(fd, p);
            System.arraycopy(name, 0, fd, p + VariableHeader.SIZE, name.length);
            System.arraycopy(data, 0, fd, p + VariableHeader.SIZE + name.length, data.length);
            p = (p + size + 3) & ~3;
        }
        return fd;
    }

    /**
     * The variables that turn Secure Boot on with the given signature lists: PK, KEK, db (and dbx
     * when given) as time-based authenticated variables stamped {@code time}, SecureBootEnable = 1,
     * CustomMode = 0 (what OVMF's own enrolment leaves behind).
     */
    public static List<Variable> secureBoot(byte[] pkEsl, byte[] kekEsl, byte[] dbEsl, byte[] dbxEsl, Instant time) {
        List<Variable> v = new ArrayList<>();
        v.add(new Variable("db", EfiVariables.IMAGE_SECURITY_DATABASE, EfiVariables.ATTRIBUTES, time, dbEsl));
        if (dbxEsl != null) {
            v.add(new Variable("dbx", EfiVariables.IMAGE_SECURITY_DATABASE, EfiVariables.ATTRIBUTES, time, dbxEsl));
        }
        v.add(new Variable("KEK", EfiVariables.GLOBAL_VARIABLE, EfiVariables.ATTRIBUTES, time, kekEsl));
        v.add(new Variable("PK", EfiVariables.GLOBAL_VARIABLE, EfiVariables.ATTRIBUTES, time, pkEsl));
        v.add(new Variable("SecureBootEnable", SECURE_BOOT_ENABLE_DISABLE, NV_BS, null, new byte[] {1}));
        v.add(new Variable("CustomMode", CUSTOM_MODE, NV_BS, null, new byte[] {0}));
        return v;
    }

    /** The inverse of {@link EfiVariables#guid}. */
    public static UUID uuid(byte[] g) {
        long hi = le(g, 0, 4) << 32 | le(g, 4, 2) << 16 | le(g, 6, 2);
        long lo = 0;
        for (int i = 8; i < 16; i++) {
            lo = (lo << 8) | (g[i] & 0xFF);
        }
        return new UUID(hi, lo);
    }

    private static long le(byte[] b, int off, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }
}
