package dev.cairn.signing.secureboot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * {@code UEFI_VARIABLE_DATA} (TCG PC Client PFP §10.2.6; edk2 UefiTcgPlatform.h, packed), the
 * event data of EV_EFI_VARIABLE_DRIVER_CONFIG and EV_EFI_VARIABLE_AUTHORITY; the firmware
 * extends PCR 7 with the hash of these whole bytes:
 * <pre>
 * +0  GUID VariableName          (the vendor GUID, EFI byte order)
 * +16 u64  UnicodeNameLength     (CHAR16 count, no terminator)
 * +24 u64  VariableDataLength
 * +32 CHAR16 UnicodeName[]       (UTF-16LE, no NUL)
 * +.. u8   VariableData[]
 * </pre>
 *
 * @param vendor the variable's vendor GUID
 * @param name   its name ({@code SecureBoot}, {@code PK}, {@code db}, …)
 * @param data   the data measured (empty for an absent variable)
 */
public record UefiVariableData(UUID vendor, String name, byte[] data) {
    public UefiVariableData {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    public byte[] encode() {
        byte[] n = name.getBytes(StandardCharsets.UTF_16LE);
        ByteBuffer b = ByteBuffer.allocate(32 + n.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(EfiVariables.guid(vendor)).putLong(name.length()).putLong(data.length).put(n).put(data);
        return b.array();
    }
}
