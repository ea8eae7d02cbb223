/** Key sources and signature formats (CMS/PKCS#7, Authenticode content, ESL/.auth). Not implemented yet. */
package dev.cairn.signing;
