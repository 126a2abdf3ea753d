"""The town: install, rigs, crew, polecats, the work loop (sling → hook → work → done), mail, convoys."""
