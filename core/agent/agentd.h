/*
 * agentd: shield-agent's life cycle.  Configuration (defaults, then an
 * optional config file of "name = value" lines, then flags), startup (TLS
 * context with mutual authentication, plugin directory, listener), the
 * event loop, and a clean shutdown on SIGTERM/SIGINT that stops every
 * running plugin and exits 0.  Every startup problem is one clear line and
 * a non-zero exit.
 *
 * Ownership: the configuration's strings belong to it until
 * agentd_config_clear(); a struct agentd borrows its configuration, which
 * must outlive it, and owns everything else it creates.
 */
#ifndef SHIELD_AGENTD_H
#define SHIELD_AGENTD_H

struct agentd;

struct agentd_config {
	char	*listen;		/* HOST:PORT */
	char	*plugins;		/* plugin directory */
	char	*cert;			/* the agent's certificate chain */
	char	*key;			/* and its private key */
	char	*ca;			/* CA(s) of client certificates */
	char	**authorized;		/* client fingerprints, or NULL */
	int	 max_requests;
	int	 request_timeout;	/* seconds, 0 = none */
	int	 log_level;
	char	*config_file;
};

/* Fill the configuration; 0, 1 after --help/--version, -1 on bad usage. */
int		 agentd_configure(struct agentd_config *, int argc,
		    char **argv);
void		 agentd_config_clear(struct agentd_config *);
/* Set up TLS, the plugin directory and the listener; NULL on failure. */
struct agentd	*agentd_start(const struct agentd_config *);
/* Run the loop until stopped; returns the exit code. */
int		 agentd_run(struct agentd *);
void		 agentd_free(struct agentd *);

#endif
