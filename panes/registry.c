/* The panes in screen order: keys 1..4 and Tab follow this array. */
#include <string.h>

#include "panes/pane.h"

const struct pane_class *const pane_classes[] = {
	&pane_alerts_class,
	&pane_timeline_class,
	&pane_roster_class,
	&pane_comms_class,
};
const size_t pane_class_count = sizeof pane_classes / sizeof pane_classes[0];

int pane_class_index(const char *name)
{
	for (size_t i = 0; i < pane_class_count; i++)
		if (name && !strcmp(pane_classes[i]->name, name))
			return (int)i;
	return -1;
}
