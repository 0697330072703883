/*
 * gencmapss: writes a synthetic fleet in NASA C-MAPSS file format.
 *
 *   gencmapss --out DIR [--subset FD002] [--train-units N] [--test-units M]
 *             [--regimes 6|1] [--min-cycles 40] [--max-cycles 120] [--seed S]
 *
 * Writes DIR/train_<SUBSET>.txt, DIR/test_<SUBSET>.txt and DIR/RUL_<SUBSET>.txt,
 * deterministically from the seed, and prints one JSON line summarising them.
 * The data are made up: plausible operating points, per-regime sensor levels,
 * initial wear, a slow degradation drift toward failure and Gaussian noise.
 * Standalone C11 + POSIX mkdir; links only libm.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define NSENS 21
#define NREG_MAX 6
#define EXIT_USAGE 2

/* ---------------------------------------------------------------- tables */

/* Operating points (setting1, setting2, setting3), regime index 0..5. */
static const double k_points[NREG_MAX][3] = {
    {0.0, 0.00, 100.0},  {10.0, 0.25, 100.0}, {20.0, 0.70, 100.0},
    {25.0, 0.62, 60.0},  {35.0, 0.84, 100.0}, {42.0, 0.84, 100.0},
};

/* Sensor base levels s1..s21 at each operating point (made up, close to NASA's). */
static const double k_base[NREG_MAX][NSENS] = {
    {518.67, 642.50, 1589.0, 1405.0, 14.62, 21.61, 553.9, 2388.05, 9050.0, 1.30, 47.45,
     521.8, 2388.05, 8135.0, 8.430, 0.03, 392.0, 2388.0, 100.00, 38.95, 23.370},
    {489.05, 604.40, 1499.0, 1310.0, 10.52, 15.49, 394.5, 2318.90, 8770.0, 1.26, 45.40,
     371.9, 2388.10, 8128.0, 8.630, 0.03, 369.0, 2319.0, 100.00, 28.60, 17.160},
    {491.19, 607.50, 1481.0, 1252.0, 9.35, 13.65, 334.3, 2323.95, 8710.0, 1.08, 44.30,
     315.2, 2388.10, 8055.0, 9.240, 0.02, 364.0, 2324.0, 100.00, 24.45, 14.690},
    {462.54, 536.50, 1262.0, 1049.0, 7.05, 9.03, 175.5, 1915.30, 8005.0, 0.94, 36.60,
     164.6, 2028.20, 7880.0, 10.900, 0.02, 307.0, 1915.0, 84.93, 14.30, 8.580},
    {449.44, 555.50, 1366.0, 1131.0, 5.48, 8.00, 194.4, 2222.85, 8343.0, 1.02, 41.90,
     183.5, 2388.05, 8065.0, 9.330, 0.02, 334.0, 2223.0, 100.00, 14.85, 8.900},
    {445.00, 549.70, 1350.0, 1120.0, 3.91, 5.72, 138.5, 2211.95, 8325.0, 1.02, 42.15,
     130.6, 2388.05, 8085.0, 9.370, 0.02, 331.0, 2212.0, 100.00, 10.60, 6.360},
};

/* Degradation drift reached at failure, at the sea-level point (scaled per regime).
 * Zero for the sensors that stay constant (s1 s5 s6 s10 s16 s18 s19). */
static const double k_drift_hpc[NSENS] = {
    0.0, 1.20, 18.0, 30.0, 0.0, 0.0, -3.5, 0.25, 25.0, 0.0, 1.00,
    -3.2, 0.25, 20.0, 0.12, 0.0, 5.0, 0.0, 0.0, -0.80, -0.45,
};
/* Second fault mode (fan), used for half of the units of FD003/FD004. */
static const double k_drift_fan[NSENS] = {
    0.0, 1.00, 14.0, 25.0, 0.0, 0.0, 3.0, 0.30, -18.0, 0.0, 0.80,
    2.8, 0.30, -15.0, 0.10, 0.0, 4.0, 0.0, 0.0, -0.70, -0.40,
};

/* Measurement noise (standard deviation) at the sea-level point (scaled per regime). */
static const double k_noise[NSENS] = {
    0.0, 0.45, 5.5, 7.5, 0.0, 0.0015, 0.80, 0.06, 10.0, 0.0, 0.25,
    0.70, 0.07, 9.0, 0.035, 0.0, 1.5, 0.0, 0.0, 0.17, 0.10,
};

/* Printed decimals per sensor, as in NASA's files (s17, s18 are integers there). */
static const int k_decimals[NSENS] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 2, 0, 0, 2, 2, 4,
};

/* ------------------------------------------------------------------- rng */

typedef struct {
    uint64_t s;
} Rng;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* An independent stream per (seed, file kind, unit): changing one count leaves
 * the other units as they were. */
static Rng rng_stream(uint64_t seed, uint64_t kind, uint64_t unit) {
    uint64_t s = seed;
    uint64_t a = splitmix64(&s);
    s = a ^ (kind * 0xD1B54A32D192ED03ULL);
    uint64_t b = splitmix64(&s);
    s = b ^ (unit * 0xA0761D6478BD642FULL);
    Rng r = {splitmix64(&s)};
    return r;
}

static uint64_t rng_u64(Rng *r) { return splitmix64(&r->s); }

/* Uniform in [0, 1). */
static double rng_unif(Rng *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [lo, hi] (hi >= lo, small ranges). */
static long rng_int(Rng *r, long lo, long hi) {
    uint64_t span = (uint64_t)(hi - lo) + 1u;
    return lo + (long)(rng_u64(r) % span);
}

/* Standard normal (Box-Muller). */
static double rng_gauss(Rng *r) {
    double u1 = 1.0 - rng_unif(r); /* (0, 1] */
    double u2 = rng_unif(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* --------------------------------------------------------------- options */

typedef struct {
    const char *out;
    char subset[8];
    long train_units, test_units, regimes, min_cycles, max_cycles;
    uint64_t seed;
} Opts;

static void usage(FILE *f) {
    fputs("usage: gencmapss --out DIR [--subset FD001|FD002|FD003|FD004] [--train-units N]\n"
          "                 [--test-units M] [--regimes 6|1] [--min-cycles C] [--max-cycles C]\n"
          "                 [--seed S] [--help]\n"
          "\n"
          "Writes a synthetic fleet in NASA C-MAPSS format, deterministically from the seed:\n"
          "  DIR/train_<SUBSET>.txt  run-to-failure units 1..N\n"
          "  DIR/test_<SUBSET>.txt   units 1..M truncated before failure (>= 5 cycles)\n"
          "  DIR/RUL_<SUBSET>.txt    true remaining cycles of each test unit\n"
          "and prints one JSON line summarising them on stdout.\n"
          "\n"
          "  --out DIR         output folder (created if missing)\n"
          "  --subset X        file-name suffix, default FD002\n"
          "  --train-units N   default 30\n"
          "  --test-units M    default 10\n"
          "  --regimes 6|1     operating points, default 6 for FD002/FD004, 1 for FD001/FD003\n"
          "  --min-cycles C    shortest unit life, default 40 (at least 6)\n"
          "  --max-cycles C    longest unit life, default 120\n"
          "  --seed S          unsigned 64-bit seed, default 1\n"
          "FD003/FD004 give half of the units a second fault mode. Exit status 2 on error.\n",
          f);
}

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "gencmapss: %s expects an integer in [%ld, %ld], got '%s'\n", flag, lo,
                hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_seed(const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || s[0] == '+') {
        fprintf(stderr, "gencmapss: --seed expects an unsigned 64-bit integer, got '%s'\n", s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* Returns 0 to go on, 1 after --help, -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, Opts *o) {
    long regimes = -1;
    memset(o, 0, sizeof *o);
    strcpy(o->subset, "FD002");
    o->train_units = 30;
    o->test_units = 10;
    o->min_cycles = 40;
    o->max_cycles = 120;
    o->seed = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "gencmapss: unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
        /* Accept both "--flag value" and "--flag=value". */
        char name[32];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        if (nlen >= sizeof name) {
            fprintf(stderr, "gencmapss: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        memcpy(name, a, nlen);
        name[nlen] = '\0';
        static const char *const known[] = {"--out",        "--subset",     "--train-units",
                                            "--test-units", "--regimes",    "--min-cycles",
                                            "--max-cycles", "--seed"};
        int is_known = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            if (strcmp(name, known[k]) == 0) is_known = 1;
        if (!is_known) {
            fprintf(stderr, "gencmapss: unknown option '%s' (see --help)\n", name);
            return -1;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "gencmapss: %s needs a value\n", name);
            return -1;
        }

        if (strcmp(name, "--out") == 0) {
            if (val[0] == '\0') {
                fprintf(stderr, "gencmapss: --out needs a non-empty folder name\n");
                return -1;
            }
            o->out = val;
        } else if (strcmp(name, "--subset") == 0) {
            if (strlen(val) != 5 || strncmp(val, "FD00", 4) != 0 || val[4] < '1' ||
                val[4] > '4') {
                fprintf(stderr, "gencmapss: --subset must be FD001, FD002, FD003 or FD004, got '%s'\n",
                        val);
                return -1;
            }
            strcpy(o->subset, val);
        } else if (strcmp(name, "--train-units") == 0) {
            if (parse_long(name, val, 1, 100000, &o->train_units)) return -1;
        } else if (strcmp(name, "--test-units") == 0) {
            if (parse_long(name, val, 1, 100000, &o->test_units)) return -1;
        } else if (strcmp(name, "--regimes") == 0) {
            if (parse_long(name, val, 1, 6, &regimes)) return -1;
            if (regimes != 1 && regimes != 6) {
                fprintf(stderr, "gencmapss: --regimes must be 6 or 1, got '%s'\n", val);
                return -1;
            }
        } else if (strcmp(name, "--min-cycles") == 0) {
            if (parse_long(name, val, 6, 100000, &o->min_cycles)) return -1;
        } else if (strcmp(name, "--max-cycles") == 0) {
            if (parse_long(name, val, 6, 100000, &o->max_cycles)) return -1;
        } else if (strcmp(name, "--seed") == 0) {
            if (parse_seed(val, &o->seed)) return -1;
        }
    }
    if (o->out == NULL) {
        fprintf(stderr, "gencmapss: --out DIR is required (see --help)\n");
        return -1;
    }
    if (o->max_cycles < o->min_cycles) {
        fprintf(stderr, "gencmapss: --max-cycles (%ld) is smaller than --min-cycles (%ld)\n",
                o->max_cycles, o->min_cycles);
        return -1;
    }
    if (regimes < 0) regimes = (o->subset[4] == '2' || o->subset[4] == '4') ? 6 : 1;
    o->regimes = regimes;
    return 0;
}

/* ------------------------------------------------------------ generation */

typedef struct {
    const char *path; /* final name, for messages */
    FILE *f;
    int failed;
} Out;

/* Writes cycles 1..n_rows of one unit whose full life is `life` cycles. */
static void write_unit(Out *out, Rng *r, const Opts *o, long unit, long life, long n_rows,
                       long *regime_rows) {
    int two_modes = (o->subset[4] == '3' || o->subset[4] == '4');
    const double *drift = (two_modes && rng_unif(r) < 0.5) ? k_drift_fan : k_drift_hpc;
    double rate = 0.8 + 0.45 * rng_unif(r); /* how hard this unit degrades */
    double wear0 = 0.15 * rng_unif(r);      /* initial wear, fraction of the final drift */
    double offset[NSENS];                   /* manufacturing variation, in noise units */
    for (int k = 0; k < NSENS; k++) offset[k] = 0.4 * rng_gauss(r);
    double setting_noise = (o->regimes == 6) ? 0.008 : 0.004;

    for (long c = 1; c <= n_rows && !out->failed; c++) {
        int reg = (o->regimes == 6) ? (int)rng_int(r, 0, 5) : 0;
        if (regime_rows) regime_rows[reg]++;
        double s1 = k_points[reg][0] + setting_noise * (2.0 * rng_unif(r) - 1.0);
        double s2 = k_points[reg][1] + setting_noise * (2.0 * rng_unif(r) - 1.0);
        double x = (double)c / (double)life;
        double health = wear0 + (1.0 - wear0) * x * x;
        if (fprintf(out->f, "%ld %ld %.4f %.4f %.1f", unit, c, s1, s2, k_points[reg][2]) < 0) {
            out->failed = 1;
            break;
        }
        for (int k = 0; k < NSENS; k++) {
            double scale = k_base[reg][k] / k_base[0][k];
            double v = k_base[reg][k] +
                       scale * (rate * drift[k] * health +
                                k_noise[k] * (offset[k] + rng_gauss(r)));
            if (fprintf(out->f, " %.*f", k_decimals[k], v) < 0) {
                out->failed = 1;
                break;
            }
        }
        if (!out->failed && fputs("  \n", out->f) == EOF) out->failed = 1;
    }
}

static int open_out(Out *out, char *tmp, size_t tmpsz, const char *dir, const char *kind,
                    const char *subset, char *final, size_t finalsz) {
    int n1 = snprintf(final, finalsz, "%s/%s_%s.txt", dir, kind, subset);
    int n2 = snprintf(tmp, tmpsz, "%s/.%s_%s.txt.partial", dir, kind, subset);
    if (n1 < 0 || (size_t)n1 >= finalsz || n2 < 0 || (size_t)n2 >= tmpsz) {
        fprintf(stderr, "gencmapss: output path too long: %s\n", dir);
        return -1;
    }
    out->path = final;
    out->failed = 0;
    out->f = fopen(tmp, "w");
    if (!out->f) {
        fprintf(stderr, "gencmapss: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

/* Closes, checks every error, and renames the finished file into place. */
static int close_out(Out *out, const char *tmp) {
    int err = out->failed || ferror(out->f);
    int saved = errno;
    if (fclose(out->f) != 0) {
        err = 1;
        saved = errno;
    }
    out->f = NULL;
    if (err) {
        fprintf(stderr, "gencmapss: error writing %s: %s\n", tmp,
                saved ? strerror(saved) : "write failed");
        remove(tmp);
        return -1;
    }
    if (rename(tmp, out->path) != 0) {
        fprintf(stderr, "gencmapss: cannot rename %s to %s: %s\n", tmp, out->path,
                strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int ensure_dir(const char *dir) {
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            fprintf(stderr, "gencmapss: %s exists and is not a folder\n", dir);
            return -1;
        }
        return 0;
    }
    if (mkdir(dir, 0777) != 0) {
        fprintf(stderr, "gencmapss: cannot create folder %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    Opts o;
    int pr = parse_args(argc, argv, &o);
    if (pr > 0) return 0;
    if (pr < 0) return EXIT_USAGE;
    if (ensure_dir(o.out) != 0) return EXIT_USAGE;

    size_t psz = strlen(o.out) + 64;
    char *final = malloc(psz), *tmp = malloc(psz);
    long *rul = malloc((size_t)o.test_units * sizeof *rul);
    if (!final || !tmp || !rul) {
        fprintf(stderr, "gencmapss: out of memory\n");
        free(final);
        free(tmp);
        free(rul);
        return EXIT_USAGE;
    }
    int rc = 0;
    long regime_rows[NREG_MAX] = {0};
    long train_rows = 0, test_rows = 0;
    Out out;

    /* Train: every unit runs to failure. */
    if (open_out(&out, tmp, psz, o.out, "train", o.subset, final, psz) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }
    for (long u = 1; u <= o.train_units && !out.failed; u++) {
        Rng r = rng_stream(o.seed, 1, (uint64_t)u);
        long life = rng_int(&r, o.min_cycles, o.max_cycles);
        write_unit(&out, &r, &o, u, life, life, regime_rows);
        train_rows += life;
    }
    if (close_out(&out, tmp) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }

    /* Test: units stop before failure; every fourth one (1, 5, 9, ...) is cut
     * short (5..19 cycles) so that short units always occur. */
    if (open_out(&out, tmp, psz, o.out, "test", o.subset, final, psz) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }
    for (long u = 1; u <= o.test_units && !out.failed; u++) {
        Rng r = rng_stream(o.seed, 2, (uint64_t)u);
        long life = rng_int(&r, o.min_cycles, o.max_cycles);
        long hi = life - 1;
        if ((u - 1) % 4 == 0 && hi > 19) hi = 19;
        long seen = rng_int(&r, 5, hi);
        write_unit(&out, &r, &o, u, life, seen, NULL);
        rul[u - 1] = life - seen;
        test_rows += seen;
    }
    if (close_out(&out, tmp) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }

    /* RUL: one integer per test unit (NASA's files end each line with a blank). */
    if (open_out(&out, tmp, psz, o.out, "RUL", o.subset, final, psz) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }
    for (long u = 0; u < o.test_units && !out.failed; u++)
        if (fprintf(out.f, "%ld \n", rul[u]) < 0) out.failed = 1;
    if (close_out(&out, tmp) != 0) {
        rc = EXIT_USAGE;
        goto done;
    }

    printf("{\"subset\":\"%s\",\"train_units\":%ld,\"train_rows\":%ld,\"test_units\":%ld,"
           "\"test_rows\":%ld,\"regimes\":%ld,\"regime_rows\":[",
           o.subset, o.train_units, train_rows, o.test_units, test_rows, o.regimes);
    for (long k = 0; k < o.regimes; k++) printf(k ? ",%ld" : "%ld", regime_rows[k]);
    printf("]}\n");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gencmapss: cannot write the summary to stdout\n");
        rc = EXIT_USAGE;
    }

done:
    free(final);
    free(tmp);
    free(rul);
    return rc;
}
