/*
 * shield list|show|create|update|edit|delete|pause|unpause|paused|run job:
 * a target backed up to a store on a schedule, kept as long as a retention
 * policy says.  The objects a job refers to can be named like any other
 * (uuid, prefix or name); they are resolved before anything is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "follow.h"
#include "format.h"
#include "http.h"
#include "prompt.h"
#include "resource.h"
#include "table.h"
#include "xmalloc.h"

#define R	(&resource_job)

/* What a job refers to: option, body key, API key prefix and kind. */
static const struct job_ref {
	const char		*option;
	const char		*key;		/* in PUT/POST bodies */
	const char		*prefix;	/* job keys: <prefix>_uuid */
	const struct resource	*res;
	const char		*question;
} job_refs[] = {
	{ "target", "target", "target", &resource_target, "Target" },
	{ "store", "store", "store", &resource_store, "Store" },
	{ "schedule", "schedule", "schedule", &resource_schedule,
	  "Schedule" },
	{ "retention-policy", "retention", "retention", &resource_retention,
	  "Retention policy" },
};
#define JOB_NREFS	(sizeof job_refs / sizeof job_refs[0])

/* "yes"/"no" for a job's paused flag. */
static const char *
job_paused(const cJSON *o)
{
	return format_bool(o, "paused") ? "yes" : "no";
}

/* Print jobs as a table. */
static void
job_print_list(const cJSON *list)
{
	struct table *t;
	const cJSON *o;

	t = table_new(9, "UUID", "NAME", "PAUSED", "SCHEDULE", "TARGET",
	    "STORE", "RETENTION", "LAST STATUS", "NEXT RUN");
	cJSON_ArrayForEach(o, list)
		table_add(t, format_str(o, "uuid"), format_str(o, "name"),
		    job_paused(o), format_str(o, "schedule"),
		    format_str(o, "target_name"), format_str(o, "store_name"),
		    format_str(o, "retention_name"),
		    format_str(o, "last_task_status"),
		    format_str(o, "next_run"));
	table_print(t);
	table_free(t);
}

/* Print "name (uuid)" for a referenced object. */
static void
job_print_ref(const char *key, const cJSON *o, const char *prefix,
    const char *extra)
{
	char name[64], uuid[64], *line;
	const char *n, *e;

	snprintf(name, sizeof name, "%s_name", prefix);
	snprintf(uuid, sizeof uuid, "%s_uuid", prefix);
	n = format_str(o, name);
	e = extra != NULL ? format_str(o, extra) : NULL;
	xasprintf(&line, "%s (%s)%s%s", n ? n : "-", format_str(o, uuid) ?
	    format_str(o, uuid) : "-", e ? ", " : "", e ? e : "");
	kv_print(key, line);
	free(line);
}

/* Print one job. */
static void
job_print(const cJSON *o)
{
	char buf[FORMAT_BUF], line[FORMAT_BUF + 64];

	kv_print("uuid", format_str(o, "uuid"));
	kv_print("name", format_str(o, "name"));
	kv_print("summary", format_str(o, "summary"));
	kv_print("paused", job_paused(o));
	job_print_ref("target", o, "target", "target_plugin");
	job_print_ref("store", o, "store", "store_plugin");
	job_print_ref("schedule", o, "schedule", "schedule");
	format_duration((int64_t)format_num(o, "expiry", 0), buf);
	snprintf(line, sizeof line, "keep %s", buf);
	job_print_ref("retention", o, "retention", NULL);
	kv_print("expiry", line);
	kv_print("next run", format_str(o, "next_run"));
	kv_print("last run", format_str(o, "last_run"));
	kv_print("last status", format_str(o, "last_task_status"));
	kv_print("last task", format_str(o, "last_task_uuid"));
}

/* shield list jobs [filters] */
static int
cmd_job_list(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "target", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 's' },
		{ "schedule", required_argument, NULL, 'S' },
		{ "retention-policy", required_argument, NULL, 'r' },
		{ "retention", required_argument, NULL, 'r' },
		{ "paused", no_argument, NULL, 'p' },
		{ "unpaused", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *want[JOB_NREFS] = { NULL }, *paused = NULL;
	char uuids[JOB_NREFS][RESOLVE_UUID_LEN], *path;
	size_t i;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 't':
			want[0] = optarg;
			break;
		case 's':
			want[1] = optarg;
			break;
		case 'S':
			want[2] = optarg;
			break;
		case 'r':
			want[3] = optarg;
			break;
		default:
			paused = c == 'p' ? "t" : "f";
			break;
		}
	}
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	for (i = 0; i < JOB_NREFS; i++)
		if (want[i] != NULL) {
			if (resolve_uuid(job_refs[i].res, want[i],
			    uuids[i]) != 0)
				return CLI_EXIT_FAIL;
			want[i] = uuids[i];
		}
	path = http_path(R->list_path, "target", want[0], "store", want[1],
	    "schedule", want[2], "retention", want[3], "paused", paused,
	    (const char *)NULL);
	rc = resource_list(path, "jobs", job_print_list);
	free(path);
	return rc;
}

/* Parse the arguments of commands that take just a job. */
static int
job_one(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	return cli_args(argc, argv, 1, "the job (uuid or name)");
}

/* shield show job ID */
static int
cmd_job_show(int argc, char **argv)
{
	if (job_one(argc, argv) != 0)
		return CLI_EXIT_USAGE;
	return resource_show(R, argv[optind], job_print);
}

static const struct option job_write_opts[] = {
	CLI_OPTS_COMMON,
	{ "name", required_argument, NULL, 'n' },
	{ "summary", required_argument, NULL, 'm' },
	{ "target", required_argument, NULL, 't' },
	{ "store", required_argument, NULL, 's' },
	{ "schedule", required_argument, NULL, 'S' },
	{ "retention-policy", required_argument, NULL, 'r' },
	{ "retention", required_argument, NULL, 'r' },
	{ "paused", no_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};

/* The options of create and update. */
struct job_args {
	const char	*name;
	const char	*summary;
	const char	*refs[JOB_NREFS];
	int		 paused;
};

/* Parse the options of create and update. */
static void
job_args_parse(struct job_args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof *a);
	while ((c = cli_getopt(argc, argv, "", job_write_opts)) != -1) {
		switch (c) {
		case 'n':
			a->name = optarg;
			break;
		case 'm':
			a->summary = optarg;
			break;
		case 't':
			a->refs[0] = optarg;
			break;
		case 's':
			a->refs[1] = optarg;
			break;
		case 'S':
			a->refs[2] = optarg;
			break;
		case 'r':
			a->refs[3] = optarg;
			break;
		case 'p':
			a->paused = 1;
			break;
		}
	}
}

/* Resolve a reference and add its uuid to body under the ref's key. */
static int
job_add_ref(cJSON *body, const struct job_ref *ref, const char *ident)
{
	char uuid[RESOLVE_UUID_LEN];

	if (resolve_uuid(ref->res, ident, uuid) != 0)
		return -1;
	cJSON_AddStringToObject(body, ref->key, uuid);
	return 0;
}

/* shield create job ... */
static int
cmd_job_create(int argc, char **argv)
{
	struct job_args a;
	char *asked[JOB_NREFS + 1] = { NULL };
	cJSON *body = NULL;
	size_t i;
	int rc = CLI_EXIT_FAIL;

	job_args_parse(&a, argc, argv);
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if (prompt_need(&a.name, &asked[JOB_NREFS], "name", "Name") != 0)
		goto out;
	for (i = 0; i < JOB_NREFS; i++)
		if (prompt_need(&a.refs[i], &asked[i], job_refs[i].option,
		    job_refs[i].question) != 0)
			goto out;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", a.name);
	cJSON_AddStringToObject(body, "summary", a.summary ? a.summary : "");
	for (i = 0; i < JOB_NREFS; i++)
		if (job_add_ref(body, &job_refs[i], a.refs[i]) != 0)
			goto out;
	cJSON_AddBoolToObject(body, "paused", a.paused);
	rc = resource_create(R, body);
out:
	for (i = 0; i <= JOB_NREFS; i++)
		free(asked[i]);
	cJSON_Delete(body);
	return rc;
}

/* shield update job ID ... */
static int
cmd_job_update(int argc, char **argv)
{
	struct job_args a;
	cJSON *o = NULL, *body = NULL;
	char key[64];
	size_t i;
	int rc = CLI_EXIT_FAIL, any;

	job_args_parse(&a, argc, argv);
	if (cli_args(argc, argv, 1, "the job (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	any = a.name != NULL || a.summary != NULL;
	for (i = 0; i < JOB_NREFS; i++)
		any |= a.refs[i] != NULL;
	if (!any || a.paused) {
		cli_error(a.paused ? "use shield pause job to pause a job" :
		    "nothing to update: give --name, --summary, --target, "
		    "--store, --schedule or --retention-policy (or use shield "
		    "edit job)");
		return CLI_EXIT_USAGE;
	}
	if ((o = resolve(R, argv[optind])) == NULL)
		goto out;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", a.name ? a.name :
	    format_str(o, "name"));
	cJSON_AddStringToObject(body, "summary", a.summary ? a.summary :
	    format_str(o, "summary") ? format_str(o, "summary") : "");
	for (i = 0; i < JOB_NREFS; i++) {
		if (a.refs[i] != NULL) {
			if (job_add_ref(body, &job_refs[i], a.refs[i]) != 0)
				goto out;
			continue;
		}
		snprintf(key, sizeof key, "%s_uuid", job_refs[i].prefix);
		cJSON_AddStringToObject(body, job_refs[i].key,
		    format_str(o, key));
	}
	rc = resource_put(R, o, body);
out:
	cJSON_Delete(body);
	cJSON_Delete(o);
	return rc;
}

/* The editable document of a job: its references as uuids. */
static cJSON *
job_doc(const cJSON *o)
{
	cJSON *d = cJSON_CreateObject();
	char key[64];
	size_t i;

	cJSON_AddStringToObject(d, "name", format_str(o, "name"));
	cJSON_AddStringToObject(d, "summary", format_str(o, "summary") ?
	    format_str(o, "summary") : "");
	for (i = 0; i < JOB_NREFS; i++) {
		snprintf(key, sizeof key, "%s_uuid", job_refs[i].prefix);
		cJSON_AddStringToObject(d, job_refs[i].key,
		    format_str(o, key));
	}
	return d;
}

/* The PUT body of an edited job; references may be names or prefixes. */
static cJSON *
job_body(const cJSON *o, const cJSON *doc)
{
	cJSON *b = cJSON_CreateObject();
	const cJSON *v;
	char key[64];
	size_t i;

	if (resource_doc_string(b, "name", doc, o, "name") != 0 ||
	    resource_doc_string(b, "summary", doc, o, "summary") != 0)
		goto fail;
	for (i = 0; i < JOB_NREFS; i++) {
		v = cJSON_GetObjectItemCaseSensitive(doc, job_refs[i].key);
		if (v == NULL) {
			snprintf(key, sizeof key, "%s_uuid",
			    job_refs[i].prefix);
			cJSON_AddStringToObject(b, job_refs[i].key,
			    format_str(o, key));
		} else if (!cJSON_IsString(v)) {
			cli_error("\"%s\" must be a string", job_refs[i].key);
			goto fail;
		} else if (job_add_ref(b, &job_refs[i], v->valuestring) != 0)
			goto fail;
	}
	return b;
fail:
	cJSON_Delete(b);
	return NULL;
}

/* shield edit job ID */
static int
cmd_job_edit(int argc, char **argv)
{
	if (job_one(argc, argv) != 0)
		return CLI_EXIT_USAGE;
	return resource_edit(R, argv[optind], job_doc, job_body);
}

/* shield delete job ID [--yes] */
static int
cmd_job_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	int yes = 0;

	while (cli_getopt(argc, argv, "y", opts) != -1)
		yes = 1;
	if (cli_args(argc, argv, 1, "the job (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	return resource_delete(R, argv[optind], yes);
}

/* POST /v1/job/:uuid/<action> for a job named in argv. */
static int
job_action(const char *ident, const char *action, const char *done,
    cJSON **replyp)
{
	cJSON *o, *reply;
	char *path, *label;

	if ((o = resolve(R, ident)) == NULL)
		return CLI_EXIT_FAIL;
	label = resolve_label(R, o);
	xasprintf(&path, "%s%s/%s", R->item_path, format_str(o, "uuid"),
	    action);
	reply = http_call("POST", path, NULL, label);
	if (reply != NULL && replyp == NULL)
		resource_report(done, label, reply);
	free(path);
	free(label);
	cJSON_Delete(o);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	if (replyp != NULL)
		*replyp = reply;
	else
		cJSON_Delete(reply);
	return CLI_EXIT_OK;
}

/* shield pause job ID */
static int
cmd_job_pause(int argc, char **argv)
{
	if (job_one(argc, argv) != 0)
		return CLI_EXIT_USAGE;
	return job_action(argv[optind], "pause", "paused", NULL);
}

/* shield unpause job ID */
static int
cmd_job_unpause(int argc, char **argv)
{
	if (job_one(argc, argv) != 0)
		return CLI_EXIT_USAGE;
	return job_action(argv[optind], "unpause", "unpaused", NULL);
}

/* shield paused job ID: exit 0 if paused, 1 if not. */
static int
cmd_job_paused(int argc, char **argv)
{
	cJSON *o, *out;
	char *label;
	int paused;

	if (job_one(argc, argv) != 0)
		return CLI_EXIT_USAGE;
	if ((o = resolve(R, argv[optind])) == NULL)
		return CLI_EXIT_FAIL;
	paused = format_bool(o, "paused");
	label = resolve_label(R, o);
	if (cli_opts.json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "uuid", format_str(o, "uuid"));
		cJSON_AddBoolToObject(out, "paused", paused);
		format_json_print(out);
		cJSON_Delete(out);
	} else if (!cli_opts.quiet)
		printf("%s is %s\n", label, paused ? "paused" : "not paused");
	free(label);
	cJSON_Delete(o);
	return paused ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* shield run job ID [--wait] */
static int
cmd_job_run(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "wait", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *task;
	cJSON *reply = NULL;
	int wait = 0, rc;

	while (cli_getopt(argc, argv, "w", opts) != -1)
		wait = 1;
	if (cli_args(argc, argv, 1, "the job (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	if ((rc = job_action(argv[optind], "run", NULL, &reply)) != 0)
		return rc;
	task = format_str(reply, "task_uuid");
	if (task == NULL) {
		cli_error("shieldd did not say which task runs the job");
		rc = CLI_EXIT_FAIL;
	} else if (wait) {
		if (!cli_opts.json && !cli_opts.quiet)
			printf("task %s\n", task);
		else if (cli_opts.quiet)
			printf("%s\n", task);
		fflush(stdout);
		rc = follow_task(task);
	} else if (cli_opts.json)
		format_json_print(reply);
	else
		printf("%s\n", task);
	cJSON_Delete(reply);
	return rc;
}

static const char job_ident_help[] =
"Shows the job's target, store, schedule and retention policy (names and\n"
"uuids), whether it is paused, and its last and next runs (UTC).  JOB is a\n"
"uuid, a unique uuid prefix or a unique name.\n"
"\n"
"Examples:\n"
"  $ shield show job www-nightly\n"
"  $ shield show job 7d3a --json | jq -r .last_task_status\n";

const struct cli_command cmd_job_commands[] = {
	{ "list job", cmd_job_list, NULL, NULL,
	  "list jobs [--target T] [--store S] [--schedule S] "
	  "[--retention-policy R] [--paused | --unpaused]",
	  "list backup jobs",
	  "Lists jobs with their schedule, target, store, retention policy,\n"
	  "the status of their last task and their next run (UTC).  The\n"
	  "filters take a uuid, a unique uuid prefix or a unique name.\n"
	  "\n"
	  "Options:\n"
	  "  --target T              only jobs backing up target T\n"
	  "  --store S               only jobs writing to store S\n"
	  "  --schedule S            only jobs on schedule S\n"
	  "  --retention-policy R    only jobs keeping archives per policy R\n"
	  "  --paused, --unpaused    only paused, or only active, jobs\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list jobs --target www\n"
	  "  $ shield list jobs --paused -q\n" },
	{ "show job", cmd_job_show, NULL, NULL, "show job JOB",
	  "show a job", job_ident_help },
	{ "create job", cmd_job_create, NULL, NULL,
	  "create job --name NAME --target T --store S --schedule S "
	  "--retention-policy R [--summary TEXT] [--paused]",
	  "create a backup job",
	  "Creates a job that backs up target T into store S on schedule S "
	  "and\n"
	  "keeps each archive as long as retention policy R says.  T, S and R\n"
	  "may be uuids, unique uuid prefixes or names.  On a terminal, "
	  "missing\n"
	  "values are asked for.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME             the job's unique name\n"
	  "  --target T              what to back up\n"
	  "  --store S               where archives go\n"
	  "  --schedule S            when it runs\n"
	  "  --retention-policy R    how long archives are kept\n"
	  "  --summary TEXT          a description (default empty)\n"
	  "  --paused                create it paused\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield create job --name www-nightly --target www --store local "
	  "\\\n"
	  "        --schedule nightly --retention-policy month\n"
	  "  created job \"www-nightly\" (7d3a...)\n" },
	{ "update job", cmd_job_update, NULL, NULL,
	  "update job JOB [--name NAME] [--summary TEXT] [--target T] "
	  "[--store S] [--schedule S] [--retention-policy R]",
	  "change a job",
	  "Changes only what is given; the rest stays.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield update job www-nightly --schedule hourly\n" },
	{ "edit job", cmd_job_edit, NULL, NULL, "edit job JOB",
	  "edit a job as JSON in $EDITOR",
	  "Opens name, summary and the uuids of the job's target, store,\n"
	  "schedule and retention policy in $VISUAL or $EDITOR (default vi);\n"
	  "a reference may be replaced by a name or uuid prefix.  The result "
	  "is\n"
	  "sent when the editor exits successfully.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit job www-nightly\n" },
	{ "delete job", cmd_job_delete, NULL, NULL, "delete job JOB [--yes]",
	  "delete a job (its archives stay)",
	  "Asks for confirmation on a terminal unless --yes (-y).  Archives "
	  "the\n"
	  "job made are kept until they expire.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete job www-nightly --yes\n" },
	{ "pause job", cmd_job_pause, NULL, NULL, "pause job JOB",
	  "stop a job from running on its schedule",
	  "A paused job can still be run by hand with shield run job.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield pause job www-nightly\n"
	  "  paused job \"www-nightly\"\n" },
	{ "unpause job", cmd_job_unpause, NULL, NULL, "unpause job JOB",
	  "let a paused job run on its schedule again",
	  "Examples:\n"
	  "  $ shield unpause job www-nightly\n" },
	{ "paused job", cmd_job_paused, NULL, NULL, "paused job JOB",
	  "exit 0 if a job is paused, 1 if not",
	  "For scripts: the exit status says whether the job is paused (0) or\n"
	  "not (1); errors also exit 1, with a message on stderr.\n"
	  "\n"
	  "Examples:\n"
	  "  $ if shield -q paused job www-nightly; then echo paused; fi\n" },
	{ "run job", cmd_job_run, NULL, NULL, "run job JOB [--wait]",
	  "back a job up now",
	  "Starts a backup of the job now, whether or not it is paused, and\n"
	  "prints the uuid of its task.  With --wait (-w), follows the task,\n"
	  "streaming its log, and exits 0 only if the backup succeeded.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield run job www-nightly\n"
	  "  4be0c8a2-...\n"
	  "  $ shield run job www-nightly --wait && echo backed up\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
