#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call; these typed
// forwarders are the whole shim.
static inline CURLcode tandem_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode tandem_curl_setopt_off(CURL *curl, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode tandem_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode tandem_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
typedef size_t (*tandem_curl_data_callback)(char *data, size_t size, size_t count, void *context);
static inline CURLcode tandem_curl_setopt_callback(CURL *curl, CURLoption option, tandem_curl_data_callback callback) {
    return curl_easy_setopt(curl, option, callback);
}
typedef int (*tandem_curl_progress_callback)(void *context, curl_off_t download_total, curl_off_t download_now,
                                             curl_off_t upload_total, curl_off_t upload_now);
static inline CURLcode tandem_curl_setopt_progress(CURL *curl, CURLoption option, tandem_curl_progress_callback callback) {
    return curl_easy_setopt(curl, option, callback);
}
static inline CURLcode tandem_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}
static inline CURLcode tandem_curl_getinfo_off(CURL *curl, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(curl, info, value);
}
