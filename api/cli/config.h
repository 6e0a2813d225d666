/*
 * The CLI's saved login: the shieldd URL and a token in ~/.shield/config
 * ($SHIELD_CONFIG if set), a small JSON object readable only by its owner.
 * The strings of a struct config belong to it; config_clear() frees them.
 */
#ifndef SHIELD_CLI_CONFIG_H
#define SHIELD_CLI_CONFIG_H

struct config {
	char	*url;	/* or NULL */
	char	*token;	/* or NULL */
};

/* The path of the config file; free it. */
char	*config_path(void);
/*
 * Read the config; a missing file gives an empty config and 0.  Returns
 * -1 after printing why an existing file cannot be used.
 */
int	 config_load(struct config *);
/* Write the config with mode 0600 (its directory 0700); -1 if printed. */
int	 config_save(const struct config *);
/* Free the strings of a config. */
void	 config_clear(struct config *);

#endif
