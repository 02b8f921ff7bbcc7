/* SPDX-License-Identifier: MIT */
/*
 * Address spaces: creation, transactions, publishing rebuilt views, and the
 * RCU plumbing (thread registration, call_rcu wrappers).
 */
#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "as_priv.h"

pthread_mutex_t as_tree_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* Under as_tree_lock: every address space, and the tree's generation
 * (bumped on each change; a view is stale when its gen differs). */
static struct ramdev_as *as_list;
static uint64_t as_tree_gen = 1;

/* ---- RCU thread registration ---- */

/* liburcu must know every thread that enters a read-side section (and
 * call_rcu takes one internally).  We register lazily, and unregister from a
 * pthread key destructor so that short-lived threads do not leave a stale
 * entry in liburcu's registry (which synchronize_rcu would then walk). */
RAMDEV_TLS bool ramdev_as_tls_registered;
/* Set while one of our call_rcu callbacks runs: that thread belongs to
 * liburcu, which registered it itself. */
static RAMDEV_TLS bool as_tls_in_cb;
static pthread_key_t as_reg_key;
static pthread_once_t as_reg_once = PTHREAD_ONCE_INIT;
static int as_reg_key_err;

/* The TSan token that read-side unlocks release and RCU callbacks acquire. */
char ramdev_as_gp_token;

static void as_reg_destructor(void *arg)
{
	(void)arg;
	if (ramdev_as_tls_registered) {
		urcu_memb_unregister_thread();
		ramdev_as_tls_registered = false;
	}
}

static void as_reg_key_create(void)
{
	as_reg_key_err = pthread_key_create(&as_reg_key, as_reg_destructor);
}

void ramdev_as_rcu_register(void)
{
	if (ramdev_as_tls_registered || as_tls_in_cb)
		return;
	pthread_once(&as_reg_once, as_reg_key_create);
	if (as_reg_key_err) {
		/* Registering without a way to unregister at thread exit would
		 * leave liburcu with a dangling reader; this only happens when
		 * the process ran out of pthread keys. */
		fprintf(stderr, "ramdev: pthread_key_create: %s\n",
			strerror(as_reg_key_err));
		abort();
	}
	urcu_memb_register_thread();
	ramdev_as_tls_registered = true;
	pthread_setspecific(as_reg_key, &ramdev_as_tls_registered);
}

/* The exported read-side section; the library itself uses the inline
 * ramdev_as_rdlock/_rdunlock of as_rcu.h. */
void ramdev_as_read_lock(void)
{
	ramdev_as_rdlock();
}

void ramdev_as_read_unlock(void)
{
	ramdev_as_rdunlock();
}

void ramdev_as_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	ramdev_as_rcu_register();
	as_tsan_release(head);
	urcu_memb_call_rcu(head, fn);
}

void ramdev_as_cb_enter(struct rcu_head *head)
{
	as_tls_in_cb = true;
	as_tsan_acquire(head);
	as_tsan_acquire(&ramdev_as_gp_token);
}

void ramdev_as_cb_exit(void)
{
	as_tls_in_cb = false;
}

/* ---- publishing ---- */

static void as_view_free_cb(struct rcu_head *head)
{
	ramdev_as_cb_enter(head);
	ramdev_as_view_drop(caa_container_of(head, struct as_view, rcu));
	ramdev_as_cb_exit();
}

static void as_publish(struct ramdev_as *as, struct as_view *v)
{
	struct as_view *old = as->view;

	/* Release: the view's contents are complete before readers see it. */
	AS_RCU_ASSIGN(as->view, v);
	as->gen = as_tree_gen;
	if (old)
		ramdev_as_call_rcu(&old->rcu, as_view_free_cb);
}

static bool as_needs_build(const struct ramdev_as *as)
{
	return as->depth == 0 && as->gen != as_tree_gen;
}

/* Rebuild every stale address space outside a transaction.  All new views
 * are built before any is published, so on -ENOMEM nothing changes. */
static int as_update_all(void)
{
	struct ramdev_as *as;
	int rc = 0;

	for (as = as_list; as && rc == 0; as = as->next)
		if (as_needs_build(as))
			rc = ramdev_as_view_build(as, &as->staged);
	for (as = as_list; as; as = as->next) {
		if (!as->staged)
			continue;
		if (rc == 0)
			as_publish(as, as->staged);
		else
			ramdev_as_view_drop(as->staged);
		as->staged = NULL;
	}
	return rc;
}

/* Called with the tree lock held after each change of the tree. */
int ramdev_as_tree_changed(void)
{
	as_tree_gen++;
	return as_update_all();
}

struct ramdev_as *ramdev_as_of_region(struct ramdev_region *r)
{
	while (r && !r->root_of)
		r = r->parent;
	return r ? r->root_of : NULL;
}

/* ---- public API ---- */

static int as_alloc(struct ramdev_as **out, const char *name)
{
	struct ramdev_as *as = calloc(1, sizeof(*as));
	int rc;

	if (!as)
		return -ENOMEM;
	as->name = strdup(name);
	/* Named "system" like QEMU's root of the system address space. */
	rc = ramdev_region_new_container(&as->root, "system", UINT64_MAX);
	/* The empty view of the empty root (with its padded search keys). */
	if (!rc)
		rc = ramdev_as_view_build(as, &as->view);
	if (!as->name || rc) {
		if (as->view)
			ramdev_as_view_drop(as->view);
		if (as->root)
			ramdev_region_unref(as->root);
		free(as->name);
		free(as);
		return -ENOMEM;
	}
	as->root->last = UINT64_MAX; /* the root spans all 2^64 bytes */
	as->root->root_of = as;
	*out = as;
	return 0;
}

int ramdev_as_new(struct ramdev_as **out, const char *name)
{
	struct ramdev_as *as;
	int rc;

	if (!out || !name)
		return -EINVAL;
	rc = as_alloc(&as, name);
	if (rc)
		return rc;
	pthread_mutex_lock(&as_tree_lock);
	as->gen = as_tree_gen; /* the empty view matches the empty root */
	as->next = as_list;
	as_list = as;
	pthread_mutex_unlock(&as_tree_lock);
	*out = as;
	return 0;
}

void ramdev_as_free(struct ramdev_as *as)
{
	struct ramdev_as **pp;
	struct as_view *old;

	if (!as)
		return;
	pthread_mutex_lock(&as_tree_lock);
	for (pp = &as_list; *pp; pp = &(*pp)->next)
		if (*pp == as) {
			*pp = as->next;
			break;
		}
	old = as->view;
	AS_RCU_ASSIGN(as->view, NULL);
	as->root->root_of = NULL;
	ramdev_region_unref(as->root); /* detaches and drops every child */
	as_tree_gen++;
	as_update_all(); /* other spaces may have aliased into this tree */
	pthread_mutex_unlock(&as_tree_lock);
	if (old)
		ramdev_as_call_rcu(&old->rcu, as_view_free_cb);
	/* Run the pending callbacks, so that regions nobody else holds are
	 * released before we return (the caller may unmap their memory). */
	urcu_memb_barrier();
	while (as->log_sinks) {
		struct as_log_sink *s = as->log_sinks;

		as->log_sinks = s->prev;
		free(s);
	}
	free(as->name);
	free(as);
}

void ramdev_as_synchronize(void)
{
	/* A removed region's last view reference is dropped by a call_rcu
	 * callback queued when the view that replaced it was published, i.e.
	 * before this call: rcu_barrier waits for that grace period and for
	 * every callback queued so far, on liburcu's call_rcu thread.  On that
	 * thread itself it would wait for itself: refuse (liburcu would too,
	 * with a message of its own). */
	if (as_tls_in_cb) {
		ramdev_as_logf(NULL, LOG_ERR, "ramdev_as_synchronize called "
			       "from a release callback: not waiting");
		return;
	}
	ramdev_as_rcu_register();
	urcu_memb_barrier();
}

/*
 * The sink is one immutable pair, swapped with a single pointer store, so a
 * concurrent message never pairs the new callback with the old opaque.  An
 * old pair may still be in use by a message on another thread: pairs are
 * kept until ramdev_as_free (one small allocation per set_log call, which a
 * program makes a handful of times).
 */
void ramdev_as_set_log(struct ramdev_as *as, ramdev_log_fn *fn, void *opaque)
{
	struct as_log_sink *s;

	if (!as)
		return;
	s = malloc(sizeof(*s));
	if (!s) {
		ramdev_as_logf(as, LOG_ERR, "set_log on address space %s: out of "
			       "memory, the previous log sink stays", as->name);
		return;
	}
	s->fn = fn;
	s->opaque = opaque;
	pthread_mutex_lock(&as_tree_lock);
	s->prev = as->log_sinks;
	as->log_sinks = s;
	__atomic_store_n(&as->log, s, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&as_tree_lock);
}

struct ramdev_region *ramdev_as_root(struct ramdev_as *as)
{
	return as ? as->root : NULL;
}

void ramdev_as_begin(struct ramdev_as *as)
{
	if (!as)
		return;
	pthread_mutex_lock(&as_tree_lock);
	as->depth++;
	pthread_mutex_unlock(&as_tree_lock);
}

int ramdev_as_commit(struct ramdev_as *as)
{
	int rc = 0;

	if (!as)
		return -EINVAL;
	pthread_mutex_lock(&as_tree_lock);
	if (as->depth == 0) {
		ramdev_as_logf(as, LOG_ERR,
			       "commit without begin on address space %s",
			       as->name);
		rc = -EINVAL;
	} else if (--as->depth == 0) {
		rc = as_update_all();
	}
	pthread_mutex_unlock(&as_tree_lock);
	return rc;
}
