

def test_a_gazetteer_of_one_address_is_not_a_certain_match() -> None:
    from business_index.link.address_matching import load_model, model_for_gazetteer
    from business_index.link.compiled_model import compile_model

    model = model_for_gazetteer(load_model(), 1)
    # one address, or none of them: even odds, not a certainty (whose log-odds divide by zero)
    assert model["probability_two_random_records_match"] == 0.5
    assert compile_model(model).prior_weight == 0.0
