from crmconf.cli import main

main(prog_name="crmconf")
