// SPDX-License-Identifier: MIT
/*
 * Vendor, device, subsystem and class names from the pci.ids database
 * (what lspci prints).  The file is read line by line, once per lookup,
 * without loading it: a vendor's block ends at the next vendor line, and
 * classes ("C cc" lines) follow all vendors.
 *
 *   vvvv  Vendor
 *   <TAB>dddd  Device
 *   <TAB><TAB>ssss ssss  Subsystem
 *   C cc  Class
 *   <TAB>ss  Subclass
 *   <TAB><TAB>pp  Programming interface
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "trace_internal.h"

static const char *const default_paths[] = {
	"/usr/share/misc/pci.ids",	/* Debian, Ubuntu (package pci.ids) */
	"/usr/share/hwdata/pci.ids",	/* Red Hat, Fedora (hwdata) */
};

/* "1af4  Red Hat, Inc." -> id and name after the two spaces */
static bool parse_id(const char *p, int digits, unsigned int *id,
		     const char **name)
{
	char *end;
	unsigned long v = strtoul(p, &end, 16);

	if (end - p != digits || end[0] != ' ' || end[1] != ' ')
		return false;
	*id = (unsigned int)v;
	*name = end + 2;
	return true;
}

static void put(char *dst, size_t len, const char *name)
{
	snprintf(dst, len, "%.*s", (int)strcspn(name, "\n"), name);
}

int dmakit_pci_ids_lookup(const char *path, uint16_t vendor, uint16_t device,
			  uint16_t subsys_vendor, uint16_t subsys_device,
			  uint32_t class_code,
			  struct dmakit_trace_pci_names *n)
{
	unsigned int cls = class_code >> 16, sub = (class_code >> 8) & 0xff;
	unsigned int pif = class_code & 0xff, id, id2;
	bool in_vendor = false, in_device = false, in_class = false;
	bool in_subclass = false;
	char *line = NULL, cls_name[96] = "";
	const char *name;
	size_t cap = 0;
	FILE *f;

	memset(n, 0, sizeof(*n));
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] != '\t') {		/* a vendor or a class */
			in_vendor = in_device = in_class = in_subclass = false;
			if (line[0] == 'C' && line[1] == ' ') {
				if (parse_id(line + 2, 2, &id, &name) && id == cls) {
					in_class = true;
					put(cls_name, sizeof(cls_name), name);
				}
			} else if (parse_id(line, 4, &id, &name)) {
				if (id == vendor) {
					in_vendor = true;
					put(n->vendor, sizeof(n->vendor), name);
				}
				if (id == subsys_vendor)
					put(n->subsys_vendor, sizeof(n->subsys_vendor),
					    name);
			}
		} else if (line[1] != '\t') {	/* a device or a subclass */
			in_device = in_subclass = false;
			if (in_vendor && parse_id(line + 1, 4, &id, &name) &&
			    id == device) {
				in_device = true;
				put(n->device, sizeof(n->device), name);
			} else if (in_class && parse_id(line + 1, 2, &id, &name) &&
				   id == sub) {
				in_subclass = true;
				put(n->class_name, sizeof(n->class_name), name);
			}
		} else if (in_device) {		/* "ssss ssss  name" */
			char *end;

			id = (unsigned int)strtoul(line + 2, &end, 16);
			if (end - (line + 2) == 4 && *end == ' ' &&
			    parse_id(end + 1, 4, &id2, &name) &&
			    id == subsys_vendor && id2 == subsys_device)
				put(n->subsys_device, sizeof(n->subsys_device), name);
		} else if (in_subclass && parse_id(line + 2, 2, &id, &name) &&
			   id == pif) {
			put(n->prog_if, sizeof(n->prog_if), name);
		}
	}
	free(line);
	fclose(f);
	/* lspci's class name: the subclass's, else the class's */
	if (!n->class_name[0])
		memcpy(n->class_name, cls_name, sizeof(cls_name));
	/* lspci's subsystem name when its ids are the device's own */
	if (!n->subsys_device[0] && subsys_vendor == vendor &&
	    subsys_device == device)
		memcpy(n->subsys_device, n->device, sizeof(n->device));
	return 0;
}

int dmakit_trace_pci_names(const struct dmakit_trace_pci *pci,
			   const char *ids_path,
			   struct dmakit_trace_pci_names *names)
{
	struct dmakit_trace_pci_info in;
	size_t i;
	int ret = -ENOENT;

	dmakit_trace_pci_info(pci, &in);
	if (ids_path)
		return dmakit_pci_ids_lookup(ids_path, in.vendor, in.device,
					     in.subsys_vendor, in.subsys_device,
					     in.class_code, names);
	for (i = 0; i < sizeof(default_paths) / sizeof(default_paths[0]) &&
		    ret == -ENOENT; i++)
		ret = dmakit_pci_ids_lookup(default_paths[i], in.vendor,
					    in.device, in.subsys_vendor,
					    in.subsys_device, in.class_code,
					    names);
	return ret;
}
