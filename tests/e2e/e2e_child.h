/* A hostel-vm child process for end-to-end tests: its serial console on a
 * pipe, with helpers to wait for text and to type. */
#ifndef HOSTEL_E2E_CHILD_H
#define HOSTEL_E2E_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct child {
    pid_t pid;
    int in;       /* guest console input */
    int out;      /* guest console output (stdout+stderr) */
    char buf[1 << 20];
    size_t len;
    int status;   /* wait status once exited */
    bool exited;
};

double now_s(void);
/* Start argv[0] with argv; returns 0 or -1. */
int child_spawn(struct child *c, char *const argv[]);
/* Read output until marker appears after offset from, the child's output
 * ends, or the deadline passes. Returns the marker's offset or -1. */
long child_wait_for(struct child *c, const char *marker, size_t from, double deadline);
/* Keep reading for up to `seconds` (the console echoes to stdout). */
void child_drain(struct child *c, double seconds);
int child_type(struct child *c, const char *text);
/* Wait for the child to exit until deadline; returns its exit status, or
 * -1 (it is then killed). */
int child_wait_exit(struct child *c, double deadline);
void child_kill(struct child *c);

#endif
