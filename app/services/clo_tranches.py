"""placeholder"""
def tranche_analysis(body, settings):
    raise NotImplementedError
