/* Every backend class, in one array. Add a class here and nowhere else. */
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"
#include "core/util.h"

extern const struct backend_class backend_rollback_ssh, backend_rollback_http,
	backend_rollback_argocd, backend_rollback_github, backend_status_statuspage,
	backend_status_cachet, backend_status_slack, backend_status_webhook, backend_status_file;

extern const struct backend_class backend_deploys_jsonl, backend_deploys_argocd,
	backend_deploys_github;
extern const struct backend_class backend_rollback_demo;
extern const struct backend_class backend_alerts_alertmanager, backend_alerts_prometheus,
	backend_metrics_prometheus;

const struct backend_class *const backend_classes[] = {
	&backend_rollback_ssh, &backend_rollback_http, &backend_rollback_argocd,
	&backend_rollback_github, &backend_status_statuspage, &backend_status_cachet,
	&backend_status_slack, &backend_status_webhook, &backend_status_file,
	&backend_deploys_jsonl, &backend_deploys_argocd, &backend_deploys_github,
	&backend_rollback_demo,
	&backend_alerts_alertmanager, &backend_alerts_prometheus, &backend_metrics_prometheus,
	NULL,
};

const struct backend_class *backend_find(const char *family, const char *type)
{
	for (size_t i = 0; backend_classes[i]; i++) {
		const struct backend_class *bc = backend_classes[i];
		if (strcmp(bc->family, family) == 0 && type && strcmp(bc->type, type) == 0)
			return bc;
	}
	return NULL;
}

bool backend_check_config(const struct config *cfg, char *err, size_t errlen)
{
	const char *file = cfg->path ? cfg->path : "config";
	for (size_t i = 0; i < cfg->sections.n; i++) {
		const struct config_section *sec = cfg->sections.v[i];
		const struct backend_class *bc = backend_find(sec->family, sec->type);
		if (!bc) {
			struct sbuf sb;
			sbuf_init(&sb);
			for (size_t k = 0; backend_classes[k]; k++)
				if (strcmp(backend_classes[k]->family, sec->family) == 0 &&
				    strcmp(backend_classes[k]->type, "demo") != 0)
					sbuf_printf(&sb, "%s%s", sb.len ? ", " : "", backend_classes[k]->type);
			snprintf(err, errlen, "%s:%d: [%s %s]: %s '%s' is not built in (known: %s)", file,
				 sec->line, sec->family, sec->name,
				 strcmp(sec->family, "rollback") == 0 ? "via" : "type",
				 sec->type ? sec->type : "", sb.len ? sb.buf : "none");
			sbuf_free(&sb);
			return false;
		}
		/* keys every class of a family shares, read by the action runner */
		const struct config_kv *kv = config_get_kv(sec, "approval");
		if (kv && strcmp(kv->value, "none") != 0 && strcmp(kv->value, "two-person") != 0) {
			snprintf(err, errlen, "%s:%d: approval must be none or two-person, not '%s'", file,
				 kv->line, kv->value);
			return false;
		}
		kv = config_get_kv(sec, "audience");
		if (kv && strcmp(kv->value, "external") != 0 && strcmp(kv->value, "internal") != 0) {
			snprintf(err, errlen, "%s:%d: audience must be external or internal, not '%s'", file,
				 kv->line, kv->value);
			return false;
		}
		void *self = bc->configure ? bc->configure(sec, cfg->path, err, errlen) : NULL;
		if (!self) {
			if (!err[0])
				snprintf(err, errlen, "%s:%d: [%s %s] cannot be configured", file, sec->line,
					 sec->family, sec->name);
			return false;
		}
		if (bc->free)
			bc->free(self);
	}
	return true;
}
