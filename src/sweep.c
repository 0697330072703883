#include "cli.h"
#include <stdio.h>
int cmd_sweep(int argc, char **argv) { (void)argc, (void)argv; fputs("mtlbench sweep: not yet available\n", stderr); return 2; }
