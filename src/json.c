#include "json.h"

#include <math.h>

static void key(json_w *j, const char *k)
{
    fprintf(j->f, "%s\"%s\":", j->n++ ? "," : "", k);
}

static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void json_open(json_w *j, FILE *f)
{
    j->f = f;
    j->n = 0;
    fputc('{', f);
}

void json_str(json_w *j, const char *k, const char *val)
{
    key(j, k);
    quoted(j->f, val);
}

void json_num(json_w *j, const char *k, double val)
{
    key(j, k);
    if (isfinite(val)) fprintf(j->f, "%.10g", val);
    else fputs("null", j->f);
}

void json_int(json_w *j, const char *k, long val)
{
    key(j, k);
    fprintf(j->f, "%ld", val);
}

void json_ints(json_w *j, const char *k, const int *v, int n)
{
    key(j, k);
    fputc('[', j->f);
    for (int i = 0; i < n; i++) fprintf(j->f, "%s%d", i ? "," : "", v[i]);
    fputc(']', j->f);
}

void json_close(json_w *j)
{
    fputs("}\n", j->f);
    fflush(j->f);
}
