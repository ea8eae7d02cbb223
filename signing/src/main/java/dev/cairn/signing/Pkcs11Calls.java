package dev.cairn.signing;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.NativeLongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The few PKCS#11 calls SunPKCS11 offers no API for (the token label of each slot, the objects
 * with a given CKA_ID), made on the module's own function list through JNA. (The JDK's PKCS#11
 * wrapper has them, but only to a JVM started with {@code --add-exports}: in the launcher's main
 * jar manifest, that option cost every cairn start some 8 ms, the launcher's first lambda setting
 * up {@code java.lang.invoke} before {@code main}.)
 *
 * <p>{@link #open} initialises the module unless it already is (SunPKCS11 initialised it in this
 * process); {@link #close} finalises it only in the first case, so SunPKCS11 later initialises it
 * afresh with its own arguments, or goes on using it. Linux and other LP64 systems: CK_ULONG is a
 * C {@code long}, structures are not packed.
 */
final class Pkcs11Calls implements AutoCloseable {
    static final long CKA_CLASS = 0x0;
    static final long CKA_LABEL = 0x3;
    static final long CKA_ID = 0x102;
    static final long CKO_CERTIFICATE = 0x1;
    private static final long CKF_SERIAL_SESSION = 0x4;
    private static final long CKR_OK = 0;
    private static final long CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;
    /** CK_TOKEN_INFO is 208 bytes on LP64; its label, 32 blank-padded UTF-8 bytes, comes first. */
    private static final int TOKEN_INFO_SIZE = 512;
    private static final int LABEL_SIZE = 32;
    /** CK_ATTRIBUTE: type (CK_ULONG), pValue, ulValueLen (CK_ULONG). */
    private static final int ATTRIBUTE_SIZE = 3 * 8;
    /** More objects with one CKA_ID than this is "several" all the same. */
    private static final int MAX_FOUND = 16;
    /** Labels are short; a module claiming more is not believed. */
    private static final long MAX_LABEL = 4096;

    // indexes in CK_FUNCTION_LIST (PKCS#11 2.40 §5.2), after its CK_VERSION
    private static final int C_INITIALIZE = 0;
    private static final int C_FINALIZE = 1;
    private static final int C_GET_SLOT_LIST = 4;
    private static final int C_GET_TOKEN_INFO = 6;
    private static final int C_OPEN_SESSION = 12;
    private static final int C_CLOSE_SESSION = 13;
    private static final int C_GET_ATTRIBUTE_VALUE = 24;
    private static final int C_FIND_OBJECTS_INIT = 26;
    private static final int C_FIND_OBJECTS = 27;
    private static final int C_FIND_OBJECTS_FINAL = 28;

    private final Path module;
    private final Pointer functions;
    private final boolean initializedHere;

    private Pkcs11Calls(Path module, Pointer functions, boolean initializedHere) {
        this.module = module;
        this.functions = functions;
        this.initializedHere = initializedHere;
    }

    static Pkcs11Calls open(Path module) throws SigningException {
        if (Native.LONG_SIZE != 8) {
            throw new SigningException("PKCS#11 token lookup needs a 64-bit JVM on Linux; choose the token by slot id (--pkcs11-slot)");
        }
        Pointer list;
        try {
            NativeLibrary lib = NativeLibrary.getInstance(module.toAbsolutePath().toString());
            PointerByReference ref = new PointerByReference();
            check(module, "C_GetFunctionList", lib.getFunction("C_GetFunctionList").invokeLong(new Object[] {ref}));
            list = ref.getValue();
        } catch (LinkageError e) { // UnsatisfiedLinkError: no such library or symbol
            throw new SigningException("cannot load PKCS#11 module " + module + ": " + e.getMessage(), e);
        }
        if (list == null) {
            throw new SigningException("PKCS#11 module " + module + " returned no function list");
        }
        long rv = function(list, C_INITIALIZE).invokeLong(new Object[] {Pointer.NULL});
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            check(module, "C_Initialize", rv);
        }
        return new Pkcs11Calls(module, list, rv == CKR_OK);
    }

    /** Token labels by slot id, for the slots with a token; an uninitialised token (blank label) is left out. */
    Map<Long, String> tokens() throws SigningException {
        NativeLongByReference count = new NativeLongByReference(new NativeLong(0));
        call("C_GetSlotList", C_GET_SLOT_LIST, (byte) 1, Pointer.NULL, count);
        long n = count.getValue().longValue();
        Map<Long, String> out = new LinkedHashMap<>();
        if (n == 0) {
            return out;
        }
        if (n < 0 || n > 4096) {
            throw new SigningException("PKCS#11 module " + module + " reports " + Long.toUnsignedString(n) + " slots");
        }
        Memory slots = new Memory(n * 8);
        call("C_GetSlotList", C_GET_SLOT_LIST, (byte) 1, slots, count);
        long got = Math.min(n, count.getValue().longValue());
        for (int i = 0; i < got; i++) {
            long slot = slots.getLong(8L * i);
            Memory info = new Memory(TOKEN_INFO_SIZE);
            info.clear();
            call("C_GetTokenInfo", C_GET_TOKEN_INFO, new NativeLong(slot), info);
            String label = new String(info.getByteArray(0, LABEL_SIZE), StandardCharsets.UTF_8).strip();
            if (!label.isEmpty()) {
                out.put(slot, label);
            }
        }
        return out;
    }

    /**
     * The labels of the objects of class {@code objectClass} with CKA_ID {@code id} on {@code slot}
     * (public objects: no login); null for an object without a label.
     */
    java.util.List<String> labelsOf(long slot, long objectClass, byte[] id) throws SigningException {
        NativeLongByReference session = new NativeLongByReference(new NativeLong(0));
        call("C_OpenSession", C_OPEN_SESSION, new NativeLong(slot), new NativeLong(CKF_SERIAL_SESSION), Pointer.NULL, Pointer.NULL, session);
        NativeLong s = session.getValue();
        try {
            Memory classValue = new Memory(8);
            classValue.setLong(0, objectClass);
            Memory idValue = new Memory(Math.max(1, id.length));
            idValue.write(0, id, 0, id.length);
            Memory template = new Memory(2L * ATTRIBUTE_SIZE);
            attribute(template, 0, CKA_CLASS, classValue, 8);
            attribute(template, 1, CKA_ID, idValue, id.length);
            call("C_FindObjectsInit", C_FIND_OBJECTS_INIT, s, template, new NativeLong(2));
            Memory handles = new Memory(8L * MAX_FOUND);
            NativeLongByReference found = new NativeLongByReference(new NativeLong(0));
            try {
                call("C_FindObjects", C_FIND_OBJECTS, s, handles, new NativeLong(MAX_FOUND), found);
            } finally {
                call("C_FindObjectsFinal", C_FIND_OBJECTS_FINAL, s);
            }
            long n = Math.min(MAX_FOUND, found.getValue().longValue());
            java.util.List<String> labels = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                labels.add(label(s, new NativeLong(handles.getLong(8L * i))));
            }
            return labels;
        } finally {
            call("C_CloseSession", C_CLOSE_SESSION, s);
        }
    }

    private String label(NativeLong session, NativeLong object) throws SigningException {
        Memory template = new Memory(ATTRIBUTE_SIZE);
        attribute(template, 0, CKA_LABEL, Pointer.NULL, 0);
        call("C_GetAttributeValue", C_GET_ATTRIBUTE_VALUE, session, object, template, new NativeLong(1));
        long len = template.getLong(16);
        if (len == 0) {
            return null;
        }
        if (len < 0 || len > MAX_LABEL) { // also CK_UNAVAILABLE_INFORMATION (~0)
            throw new SigningException("PKCS#11 module " + module + " gives an object label of " + Long.toUnsignedString(len) + " bytes");
        }
        Memory value = new Memory(len);
        attribute(template, 0, CKA_LABEL, value, len);
        call("C_GetAttributeValue", C_GET_ATTRIBUTE_VALUE, session, object, template, new NativeLong(1));
        long got = Math.min(len, template.getLong(16));
        return new String(value.getByteArray(0, (int) got), StandardCharsets.UTF_8);
    }

    private static void attribute(Memory template, int index, long type, Pointer value, long length) {
        long at = (long) index * ATTRIBUTE_SIZE;
        template.setLong(at, type);
        template.setPointer(at + 8, value);
        template.setLong(at + 16, length);
    }

    @Override
    public void close() {
        if (initializedHere) {
            function(functions, C_FINALIZE).invokeLong(new Object[] {Pointer.NULL});
        }
    }

    private void call(String name, int index, Object... args) throws SigningException {
        check(module, name, function(functions, index).invokeLong(args));
    }

    private static Function function(Pointer list, int index) {
        // CK_FUNCTION_LIST: a CK_VERSION (2 bytes, padded to a pointer's alignment), then the pointers
        return Function.getFunction(list.getPointer((long) Native.POINTER_SIZE * (1 + index)));
    }

    private static void check(Path module, String name, long rv) throws SigningException {
        if (rv != CKR_OK) {
            throw new SigningException(name + " failed in PKCS#11 module " + module + ": CKR 0x" + Long.toHexString(rv));
        }
    }
}
