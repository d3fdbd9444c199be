# placeholder during bootstrap
