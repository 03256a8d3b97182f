"""The team app registers no model admin: preferences and authenticators are edited by each
user on their own account page (team.views.account), invitations on team.views.invite."""
