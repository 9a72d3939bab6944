/* make bench: how long a status query takes while tandemd installs.
 *
 * Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS; the bench points it at a private
 * dbus-daemon) and, until STOP_FILE exists or MAX_SECONDS have passed, calls in turn, with
 * INTERVAL_MS of sleep after each call:
 *   com.coreos.update1.Manager.GetStatus on /com/coreos/update1 (reply xdssx), and
 *   org.freedesktop.DBus.Properties.GetAll("org.tandem.Updater1") on /org/tandem/Updater1.
 * Each call is timed with CLOCK_MONOTONIC, from sending to having the parsed reply.
 *
 * Prints "ready" once connected and after one untimed call of each, so that the caller starts
 * the install only when the measurement runs. At the end it prints, per method, the number of
 * calls and p50, p99 and max in ms (nearest rank), and how many GetStatus replies said
 * UPDATE_STATUS_DOWNLOADING. With -o FILE it also writes every sample, one per line:
 * "GetStatus MS OPERATION" or "GetAll MS".
 *
 * Build: gcc -O2 -o status_latency status_latency.c $(pkg-config --cflags --libs libsystemd)
 * Usage: status_latency [-i INTERVAL_MS] [-t MAX_SECONDS] [-o SAMPLES_FILE] STOP_FILE
 * Exit status: 0, or 1 after any bus error (the message names the call).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

struct samples {
    const char *name;
    double *ms;
    size_t count, capacity;
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, int r, const sd_bus_error *error) {
    fprintf(stderr, "status_latency: %s: %s\n", what,
            error && sd_bus_error_is_set(error) ? error->message : strerror(r < 0 ? -r : r));
    exit(1);
}

static void add(struct samples *s, double ms) {
    if (s->count == s->capacity) {
        s->capacity = s->capacity ? 2 * s->capacity : 4096;
        s->ms = realloc(s->ms, s->capacity * sizeof *s->ms);
        if (!s->ms) die("out of memory", ENOMEM, NULL);
    }
    s->ms[s->count++] = ms;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of all samples at or below it. */
static double percentile(const struct samples *s, double p) {
    size_t rank = (size_t)(p * s->count + 0.999999);
    if (rank < 1) rank = 1;
    return s->ms[rank - 1];
}

static void report(struct samples *s) {
    if (s->count == 0) {
        printf("%s: 0 calls\n", s->name);
        return;
    }
    qsort(s->ms, s->count, sizeof *s->ms, compare);
    printf("%s: %zu calls, p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", s->name, s->count, percentile(s, 0.50),
           percentile(s, 0.99), s->ms[s->count - 1]);
}

/* Returns the call's duration in ms; copies the operation into op (GetStatus only). */
static double get_status(sd_bus *bus, char *op, size_t op_size) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int64_t last_checked, new_size;
    double progress;
    const char *operation, *version;
    double start = now_ms();
    int r = sd_bus_call_method(bus, "com.coreos.update1", "/com/coreos/update1", "com.coreos.update1.Manager",
                               "GetStatus", &error, &reply, "");
    if (r < 0) die("GetStatus", r, &error);
    r = sd_bus_message_read(reply, "xdssx", &last_checked, &progress, &operation, &version, &new_size);
    if (r < 0) die("GetStatus: reading the reply (expected xdssx)", r, NULL);
    double elapsed = now_ms() - start;
    snprintf(op, op_size, "%s", operation);
    sd_bus_message_unref(reply);
    return elapsed;
}

/* The reply is read to its end, as a client showing the properties would. */
static double get_all(sd_bus *bus) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    double start = now_ms();
    int r = sd_bus_call_method(bus, "org.tandem.Updater1", "/org/tandem/Updater1", "org.freedesktop.DBus.Properties",
                               "GetAll", &error, &reply, "s", "org.tandem.Updater1");
    if (r < 0) die("GetAll(org.tandem.Updater1)", r, &error);
    r = sd_bus_message_enter_container(reply, 'a', "{sv}");
    if (r < 0) die("GetAll: reading the reply (expected a{sv})", r, NULL);
    while ((r = sd_bus_message_skip(reply, "{sv}")) > 0) {
    }
    if (r < 0) die("GetAll: reading the reply", r, NULL);
    double elapsed = now_ms() - start;
    sd_bus_message_unref(reply);
    return elapsed;
}

static void pause_ms(double ms) {
    struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (time_t)(ms / 1e3) * 1e3) * 1e6)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv) {
    double interval = 5, max_seconds = 600;
    const char *samples_path = NULL;
    int c;
    while ((c = getopt(argc, argv, "i:t:o:")) != -1) {
        switch (c) {
        case 'i': interval = atof(optarg); break;
        case 't': max_seconds = atof(optarg); break;
        case 'o': samples_path = optarg; break;
        default: goto usage;
        }
    }
    if (optind != argc - 1) {
    usage:
        fprintf(stderr, "usage: status_latency [-i INTERVAL_MS] [-t MAX_SECONDS] [-o SAMPLES_FILE] STOP_FILE\n");
        return 2;
    }
    const char *stop_file = argv[optind];
    FILE *out = NULL;
    if (samples_path && !(out = fopen(samples_path, "w"))) die(samples_path, errno, NULL);

    sd_bus *bus = NULL;
    int r = sd_bus_open_system(&bus);
    if (r < 0) die("connecting to the system bus (DBUS_SYSTEM_BUS_ADDRESS)", r, NULL);
    char op[128];
    get_status(bus, op, sizeof op);
    get_all(bus);
    printf("ready\n");
    fflush(stdout);

    struct samples status = {.name = "GetStatus"}, all = {.name = "GetAll"};
    size_t downloading = 0;
    double deadline = now_ms() + max_seconds * 1e3;
    while (access(stop_file, F_OK) != 0 && now_ms() < deadline) {
        double ms = get_status(bus, op, sizeof op);
        add(&status, ms);
        if (strcmp(op, "UPDATE_STATUS_DOWNLOADING") == 0) downloading++;
        if (out) fprintf(out, "GetStatus %.6f %s\n", ms, op);
        pause_ms(interval);
        ms = get_all(bus);
        add(&all, ms);
        if (out) fprintf(out, "GetAll %.6f\n", ms);
        pause_ms(interval);
    }
    if (out && fclose(out) != 0) die(samples_path, errno, NULL);
    report(&status);
    printf("GetStatus replies saying UPDATE_STATUS_DOWNLOADING: %zu\n", downloading);
    report(&all);
    sd_bus_flush_close_unref(bus);
    return 0;
}
