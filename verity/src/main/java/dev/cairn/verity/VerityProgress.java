package dev.cairn.verity;

/** Progress callback: bytes of data processed so far were advanced by {@code bytes}. Thread-safe implementations only. */
@FunctionalInterface
public interface VerityProgress {
    VerityProgress NONE = bytes -> { };

    void advanced(long bytes);
}
