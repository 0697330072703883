/* A one-object JSON writer for the --json outputs. */
#ifndef MTL_JSON_H
#define MTL_JSON_H

#include <stdio.h>

typedef struct {
    FILE *f;
    int n;
} json_w;

void json_open(json_w *j, FILE *f);
void json_str(json_w *j, const char *key, const char *val);
void json_num(json_w *j, const char *key, double val);   /* non-finite -> null */
void json_int(json_w *j, const char *key, long val);
void json_ints(json_w *j, const char *key, const int *v, int n);
void json_close(json_w *j);                               /* "}\n" */

#endif
