/** OCI image layouts, registry client and signature formats. Not implemented yet. */
package dev.cairn.oci;
