from tenants.management.commands._base import StaffCommand
from tenants.services import site_list


class Command(StaffCommand):
    help = "List every site."

    def run(self, **o):
        sites = site_list()
        if o["json"]:
            self.emit_json(sites)
            return
        if not sites:
            self.stdout.write(
                "No sites yet. Create one with: manage.py create_site <site_id> --name N --url U"
            )
            return
        width = max(len(s["site_id"]) for s in sites)
        for s in sites:
            state = "ready" if s["ready"] else "NOT READY"
            self.stdout.write(f"{s['site_id']:<{width}}  {state:<9}  {s['url']}  {s['admin_url']}")
