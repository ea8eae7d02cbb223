/** Shared test support: test PKI, tool oracles, golden files, seeded generators. */
package dev.cairn.testing;
