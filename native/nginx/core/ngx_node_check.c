/*
 * Checking the modules when nginx loads its configuration (start, reload, nginx -t).
 * The master must not start Node itself (ARCHITECTURE.md), so it runs the checker,
 * "ngx-node <options> lib/runtime/check.js <conf.json> <report>", a short-lived process on the
 * same libnode as the workers, and waits for it. The checker loads every module and resolves
 * every handler as a worker would, as the user workers run as (fact 17), and looks for
 * module state that njs would have kept per request (src/runtime/module-state.ts). Each
 * finding comes back as one NUL-terminated message, complete with the nginx.conf location,
 * its first character the kind: "e", an error, logged as [emerg], which fails the check; "w",
 * a warning, logged as [warn].
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <grp.h>
#include <sys/syscall.h>

#include "ngx_node_core.h"


#define NGX_NODE_CHECK_TIMEOUT  60000   /* ms */


typedef struct {
    char        path[sizeof("/tmp/ngx-node-check-XXXXXX")];
    int         fd;
} ngx_node_temp_t;


static ngx_int_t
ngx_node_temp_open(ngx_log_t *log, ngx_node_temp_t *t)
{
    ngx_memcpy(t->path, "/tmp/ngx-node-check-XXXXXX", sizeof(t->path));

    t->fd = mkstemp(t->path);
    if (t->fd == -1) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      "ngx-node: mkstemp(\"%s\") failed", t->path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_node_temp_close(ngx_node_temp_t *t)
{
    if (t->fd != -1) {
        close(t->fd);
        unlink(t->path);
        t->fd = -1;
    }
}


/* the whole file, NUL-terminated, from the cycle's pool */
static ngx_int_t
ngx_node_temp_read(ngx_cycle_t *cycle, ngx_node_temp_t *t, ngx_str_t *out)
{
    off_t      size;
    ssize_t    n;

    size = lseek(t->fd, 0, SEEK_END);
    if (size == -1 || lseek(t->fd, 0, SEEK_SET) == -1) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(cycle->pool, size + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    n = read(t->fd, out->data, size);
    out->len = n > 0 ? (size_t) n : 0;
    out->data[out->len] = '\0';

    return NGX_OK;
}


/* the user workers run as, when the master may switch to it; else NULL */
static ngx_core_conf_t *
ngx_node_check_user(ngx_cycle_t *cycle)
{
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() != 0 || ccf == NULL || ccf->username == NULL
        || ccf->user == (ngx_uid_t) NGX_CONF_UNSET_UINT)
    {
        return NULL;
    }

    return ccf;
}


static void
ngx_node_check_exec(char *const *argv, int out, ngx_core_conf_t *user)
{
    /* in the child of a single-threaded master */
    sigset_t  none;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (dup2(out, STDOUT_FILENO) == -1 || dup2(out, STDERR_FILENO) == -1) {
        _exit(126);
    }

    /* what workers cannot read, the check must not read either */
    if (user != NULL
        && (setgid(user->group) == -1
            || initgroups(user->username, user->group) == -1
            || setuid(user->user) == -1))
    {
        _exit(125);
    }

    /* nginx's listening sockets and logs stay with nginx */
    syscall(SYS_close_range, 3U, ~0U, 0U);

    execv(argv[0], argv);
    _exit(127);
}


/* waits for the checker; -1 when it had to be killed */
static int
ngx_node_check_wait(ngx_pid_t pid)
{
    int         status;
    ngx_uint_t  waited;

    for (waited = 0; waited < NGX_NODE_CHECK_TIMEOUT; waited += 10) {

        switch (waitpid(pid, &status, WNOHANG)) {

        case 0:
            ngx_msleep(10);
            continue;

        case -1:
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return -1;

        default:
            return status;
        }
    }

    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);

    return -1;
}


static void
ngx_node_check_report(ngx_cycle_t *cycle, ngx_str_t *report)
{
    u_char      *p, *end, *next;
    ngx_uint_t   level;

    p = report->data;
    end = report->data + report->len;

    while (p < end) {
        next = ngx_strlchr(p, end, '\0');
        if (next == NULL) {
            next = end;
        }

        if (next - p > 1) {
            level = (*p == 'w') ? NGX_LOG_WARN : NGX_LOG_EMERG;
            ngx_log_error(level, cycle->log, 0, "%*s", next - p - 1, p + 1);
        }

        p = next + 1;
    }
}


ngx_int_t
ngx_node_check(ngx_cycle_t *cycle, ngx_node_conf_t *ncf)
{
    int               status;
    char            **argv;
    u_char           *checker, *script;
    ngx_int_t         rc;
    ngx_str_t         json, report, output, *options;
    ngx_pid_t         pid;
    ngx_uint_t        i, n;
    ngx_core_conf_t  *user;
    ngx_node_temp_t   conf, result, out;

    conf.fd = result.fd = out.fd = -1;
    rc = NGX_ERROR;

    checker = ngx_pnalloc(cycle->pool, ncf->module_dir.len + sizeof("/ngx-node"));
    script = ngx_pnalloc(cycle->pool,
                         ncf->module_dir.len + sizeof("/lib/runtime/check.js"));
    n = ncf->options ? ncf->options->nelts : 0;
    argv = ngx_palloc(cycle->pool, (n + 5) * sizeof(char *));

    if (checker == NULL || script == NULL || argv == NULL
        || ngx_node_conf_json(cycle, ncf, 0, &json) != NGX_OK
        || ngx_node_temp_open(cycle->log, &conf) != NGX_OK
        || ngx_node_temp_open(cycle->log, &result) != NGX_OK
        || ngx_node_temp_open(cycle->log, &out) != NGX_OK)
    {
        goto done;
    }

    ngx_sprintf(checker, "%V/ngx-node%Z", &ncf->module_dir);
    ngx_sprintf(script, "%V/lib/runtime/check.js%Z", &ncf->module_dir);

    if (write(conf.fd, json.data, json.len) != (ssize_t) json.len) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "ngx-node: writing %s failed", conf.path);
        goto done;
    }

    user = ngx_node_check_user(cycle);

    if (user != NULL
        && (fchown(conf.fd, user->user, user->group) == -1
            || fchown(result.fd, user->user, user->group) == -1))
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "ngx-node: fchown() of the check's files to user \"%s\" "
                      "failed", user->username);
        goto done;
    }

    argv[0] = (char *) checker;
    options = ncf->options ? ncf->options->elts : NULL;

    for (i = 0; i < n; i++) {
        argv[1 + i] = (char *) options[i].data;
    }

    argv[n + 1] = (char *) script;
    argv[n + 2] = conf.path;
    argv[n + 3] = result.path;
    argv[n + 4] = NULL;

    pid = fork();

    if (pid == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "ngx-node: fork() for the configuration check failed");
        goto done;
    }

    if (pid == 0) {
        ngx_node_check_exec(argv, out.fd, user);
    }

    status = ngx_node_check_wait(pid);

    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (ngx_node_temp_read(cycle, &result, &report) == NGX_OK) {
            ngx_node_check_report(cycle, &report);
        }

        rc = NGX_OK;
        goto done;
    }

    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1
        && ngx_node_temp_read(cycle, &result, &report) == NGX_OK
        && report.len)
    {
        ngx_node_check_report(cycle, &report);
        goto done;
    }

    if (ngx_node_temp_read(cycle, &out, &output) != NGX_OK) {
        ngx_str_null(&output);
    }

    if (output.len > 1500) {
        output.data += output.len - 1500;
        output.len = 1500;
    }

    if (status == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: checking the modules took longer than %ds "
                      "(does top-level code wait for something?): %V",
                      NGX_NODE_CHECK_TIMEOUT / 1000, &output);

    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: cannot run the configuration checker %s%s%s; "
                      "it and the directories above it must be readable by the "
                      "workers' user; rebuild with \"npm run build\" if it is "
                      "missing", checker, user ? " as user " : "",
                      user ? user->username : "");

    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 125) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: cannot check the modules as user \"%s\" (the "
                      "\"user\" directive): switching to it failed",
                      user ? user->username : "?");

    } else {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: the configuration checker %s failed "
                      "(%s %d): %V", checker,
                      WIFEXITED(status) ? "exit code" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status)
                                        : WTERMSIG(status), &output);
    }

done:

    ngx_node_temp_close(&conf);
    ngx_node_temp_close(&result);
    ngx_node_temp_close(&out);

    return rc;
}
