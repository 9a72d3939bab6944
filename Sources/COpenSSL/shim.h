/* SHA-256 per chunk runs through OpenSSL's low-level SHA256_* functions (below), which 3.0
   marks deprecated in favour of EVP; this suppresses the marks for this module only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

/* OpenSSL 3.0's EVP_DigestInit_ex allocates a new provider context on every call, so a digest
   per chunk through EVP costs an allocation per chunk. The low-level functions keep their state
   in a plain struct and run the same SHA-NI code, and are the one place Tandem uses them. */
static inline int tandem_sha256_init(SHA256_CTX *context) { return SHA256_Init(context); }
static inline int tandem_sha256_update(SHA256_CTX *context, const void *bytes, size_t count) {
    return SHA256_Update(context, bytes, count);
}
static inline int tandem_sha256_final(SHA256_CTX *context, unsigned char *digest) {
    return SHA256_Final(digest, context);
}
