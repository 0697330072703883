#include "cli.h"
#include <stdio.h>
int cmd_report(int argc, char **argv) { (void)argc, (void)argv; fputs("mtlbench report: not yet available\n", stderr); return 2; }
int cmd_compare(int argc, char **argv) { (void)argc, (void)argv; fputs("mtlbench compare: not yet available\n", stderr); return 2; }
